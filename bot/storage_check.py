"""`sendbot check` for the database: the configured SQLite file, checked read-only, or the
PostgreSQL database connected to and its schema version read (storage/check.py), with a
warning when `sendbot backup` would find no pg_dump as new as the server (storage/pg_backup.py)."""

from __future__ import annotations

from bot.config import Config
from storage.check import check_database, check_postgres
from storage.pg_backup import PgTarget, backup_tool_problem


def check(config: Config) -> tuple[list[str], list[str]]:
    if config.storage.url:
        problems = check_postgres(config.storage.url, config.storage.password_text())
        if problems:
            return problems, []
        tool = backup_tool_problem(PgTarget(config.storage.url, config.storage.password_text()))
        return [], [f"storage.url: `sendbot backup` will not work here: {tool}"] if tool else []
    return check_database(config.storage.path), []
