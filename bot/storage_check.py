"""`sendbot check` for the database: the configured file, checked read-only (storage/check.py)."""

from __future__ import annotations

from bot.config import Config
from storage.check import check_database


def check(config: Config) -> tuple[list[str], list[str]]:
    return check_database(config.storage.path), []
