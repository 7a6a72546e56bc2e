from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.feedserver import FeedServer
from tests.support.harness import Harness

# Both storage backends (SQLite and a throwaway PostgreSQL): the fixtures `backend`,
# `storage_settings`, `database` and `pg` (tests/support/backends.py).
pytest_plugins = ["tests.support.backends"]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await Harness.create(tmp_path)
    try:
        yield h
    finally:
        await h.close()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    try:
        yield server
    finally:
        await server.close()
