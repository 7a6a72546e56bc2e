"""storage.handle.database_errors (issue 13): a SQLite bot never loads asyncpg (about 3 MB of
the memory target), yet once PostgreSQL is used its driver's errors are caught as storage
trouble like SQLite's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_SQLITE_BOT = """
import asyncio, sys, tempfile
from pathlib import Path
from bot.config import parse
from bot.core import BotCore

async def main():
    folder = tempfile.mkdtemp()
    cfg = parse({"storage": {"path": str(Path(folder) / "bot.sqlite3")}, "feeds": {"enabled": False}}, environ={})
    core = await BotCore.create(cfg, cog_modules=["cogs.help", "cogs.reports", "cogs.feeds", "cogs.settings"])
    await core.start()
    await core.db.execute("INSERT INTO bot_state(key, value, updated_at) VALUES ('x', 'y', 'now')")
    await core.stop()
    from storage.handle import database_errors
    import sqlite3
    assert database_errors() == (sqlite3.Error, ConnectionError), database_errors()
    sys.exit(3 if "asyncpg" in sys.modules else 0)

asyncio.run(main())
"""


def test_a_sqlite_bot_never_imports_the_postgresql_driver() -> None:
    done = subprocess.run([sys.executable, "-c", _SQLITE_BOT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 3, "asyncpg was imported by a SQLite-only bot"
    assert done.returncode == 0, done.stderr


def test_postgresql_driver_errors_count_once_the_driver_is_loaded() -> None:
    import asyncpg

    from storage.handle import database_errors

    errors = database_errors()
    assert asyncpg.PostgresError in errors and asyncpg.InterfaceError in errors
    with pytest.raises(database_errors()):
        raise asyncpg.exceptions.ConnectionDoesNotExistError("gone")
