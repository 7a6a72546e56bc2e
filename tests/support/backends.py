"""Both storage backends for the tests (issue 15): SQLite (a real file) and PostgreSQL (a
throwaway server on loopback, tests/support/postgres.py), so the storage suite runs on each,
as Red-DiscordBot runs its config tests per driver.

Fixtures (registered in tests/conftest.py):
- `backend`: "sqlite" or "postgresql" (parametrised). Without PostgreSQL here, the
  postgresql case is skipped with the reason; with CI=true that skip is a failure.
- `storage_settings`: the [storage] section for that backend: a file under tmp_path, or a
  fresh PostgreSQL database copied from a migrated template.
- `database`: an open, migrated Database for that backend.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage.handle import Database
from storage.open import open_database
from tests.support.postgres import PostgresServer, why_unavailable

BACKENDS = ["sqlite", "postgresql"]
TEMPLATE = "sendbot_template"


@dataclass(frozen=True)
class Settings:
    """A [storage] section (storage.open.StorageSettings) without the config around it."""

    path: str
    url: str | None = None

    def password_text(self) -> str | None:
        return None

    def as_config(self) -> dict[str, Any]:
        return {"url": self.url} if self.url else {"path": self.path}


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end on its own thread's loop: fixtures run it while the test's
    loop is set (not running), and asyncio.run on this thread would unset that loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


class PgCluster:
    """The session's server and the template every test's database is copied from."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._names = itertools.count(1)

    def new_database(self) -> str:
        """The URL of a new database, already migrated (a copy of the template)."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        _run(self._sql(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}'))
        return self.server.url(name)

    def empty_database(self) -> str:
        """The URL of a new database with no tables (what `sendbot db copy` is pointed at)."""
        name = f"empty_{os.getpid()}_{next(self._names)}"
        _run(self._sql(f'CREATE DATABASE "{name}"'))
        return self.server.url(name)

    async def _sql(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server.url())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def make_template(self) -> None:
        from storage.pg import PgDatabase

        async def build() -> None:
            await self._sql(f"CREATE DATABASE {TEMPLATE}")
            db = await PgDatabase.open(self.server.url(TEMPLATE), min_size=1, max_size=1)
            await db.close()

        _run(build())


def pg_unavailable(reason: str) -> None:
    """Skip, visibly; on CI (CI=true) fail instead: there PostgreSQL must be tested."""
    message = f"PostgreSQL tests not run: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: .ci/run installs PostgreSQL)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster | str]:
    """The session's PostgreSQL, started on first use; or why there is none (a string)."""
    reason = why_unavailable()
    if reason is not None:
        yield reason
        return
    try:
        server = PostgresServer.start()
    except Exception as e:  # any failure to start is reported as the skip reason
        yield f"the test server did not start ({e})"
        return
    try:
        cluster = PgCluster(server)
        cluster.make_template()
        yield cluster
    finally:
        server.stop()


@pytest.fixture
def pg(pg_cluster: PgCluster | str) -> PgCluster:
    """The PostgreSQL cluster, for a test that needs it (skipped or failed without one)."""
    if isinstance(pg_cluster, str):
        pg_unavailable(pg_cluster)
    assert isinstance(pg_cluster, PgCluster)
    return pg_cluster


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def storage_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "sqlite":
        return Settings(str(tmp_path / "bot.sqlite3"))
    cluster: PgCluster = request.getfixturevalue("pg")
    return Settings(str(tmp_path / "unused.sqlite3"), cluster.new_database())


@pytest.fixture
def each_backend(storage_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    """Harnesses made in this test use the backend's storage (a conftest makes it autouse for
    a folder of tests: tests/cogs/reports). Returns the backend's name."""
    from tests.support import harness

    monkeypatch.setattr(harness, "BACKEND_STORAGE", storage_settings.as_config())
    return "postgresql" if storage_settings.url else "sqlite"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs on SQLite only (what it checks is SQLite's own)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked sqlite_only is not run on PostgreSQL (deselected, not skipped)."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("backend") == "postgresql"
        (drop if on_pg and item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
async def database(storage_settings: Settings) -> AsyncIterator[Database]:
    db = await open_database(storage_settings)
    try:
        yield db
    finally:
        await db.close()
