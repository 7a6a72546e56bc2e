"""Issue 13: nothing heavy runs on the event-loop thread during a poll cycle.

The cold cycle's largest loop stall (80-300 ms in `make bench`) was the first poll importing
aiohttp (and, through the parser, feedparser, lxml and pebble) on the loop thread. These
tests pin where that work happens, not how long it takes: a timing test would fail on a busy
machine and pass on a quiet one whatever the code did.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import feeds.service
from tests.support.feeds import make, service
from tests.support.feedserver import rss, snj_entries

ROOT = Path(__file__).resolve().parents[2]


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


async def test_parser_workers_do_not_import_the_main_module() -> None:
    # multiprocessing would have each worker import the parent's __main__ again (here the
    # pytest script, in the bot `sendbot`'s CLI): feeds/lean_fork.py leaves it out.
    from feeds.parse import Parser
    from tests.support.worker_probe import loaded_modules

    assert "pytest" in sys.modules  # what a worker would have re-imported
    parser = Parser(workers=1)
    try:
        await parser.parse(rss(snj_entries(2)), "https://www.specialneedsjungle.com/feed/")
        loaded = set(await parser.run(loaded_modules))
    finally:
        await parser.close()
    assert "feeds.entries" in loaded and "feedparser" in loaded
    assert not {"pytest", "_pytest", "bot.cli", "bot.config"} & loaded


def test_the_bots_process_does_not_load_the_parse_libraries() -> None:
    # The pool lives in feeds.parse; feedparser and lxml only in the workers (feeds.entries).
    heavy = "{'feedparser', 'lxml', 'feeds.entries'}"
    code = f"import sys, feeds.service, feeds.parse; sys.exit(bool({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
