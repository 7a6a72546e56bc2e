"""`sendbot check` for the database: the configured SQLite file, checked read-only, or the
PostgreSQL database connected to and its schema version read (storage/check.py)."""

from __future__ import annotations

from bot.config import Config
from storage.check import check_database, check_postgres


def check(config: Config) -> tuple[list[str], list[str]]:
    if config.storage.url:
        return check_postgres(config.storage.url, config.storage.password_text()), []
    return check_database(config.storage.path), []
