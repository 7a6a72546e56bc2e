"""`sendbot check` for the database: the configured SQLite file, checked read-only
(storage/check.py). A PostgreSQL database is not checked here."""

from __future__ import annotations

from bot.config import Config
from storage.check import check_database


def check(config: Config) -> tuple[list[str], list[str]]:
    if config.storage.url:
        # PostgreSQL: nothing on this machine to read; `sendbot run` reports a connection problem.
        return [], []
    return check_database(config.storage.path), []
