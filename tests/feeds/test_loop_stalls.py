"""Issue 13: nothing heavy runs on the event-loop thread during a poll cycle.

The cold cycle's largest loop stall (80-300 ms in `make bench`) was the first poll importing
aiohttp (and, through the parser, feedparser, lxml and pebble) on the loop thread. These
tests pin where that work happens, not how long it takes: a timing test would fail on a busy
machine and pass on a quiet one whatever the code did.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

import feeds.service
from tests.support.feeds import make, service


async def test_warm_imports_the_feed_libraries_off_the_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    ran_in: dict[str, int] = {}
    given: list[str] = []
    real = asyncio.to_thread

    async def spy(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        def record() -> Any:
            ran_in[function.__name__] = threading.get_ident()
            given.extend(a for arg in args for a in arg)
            return function(*args, **kwargs)

        return await real(record)

    monkeypatch.setattr(feeds.service.asyncio, "to_thread", spy)
    h = await make(tmp_path)
    try:
        await service(h).warm()
        assert "_import_all" in ran_in, "the feed libraries were not loaded through asyncio.to_thread"
        assert ran_in["_import_all"] != loop_thread
        # What a poll would otherwise import on first use (FeedService.fetcher, .parser).
        assert {"feeds.fetch", "feeds.parse"} <= set(given)
        assert service(h).parser.worker_pids(), "warm() starts the parser's workers"
    finally:
        await h.close()
