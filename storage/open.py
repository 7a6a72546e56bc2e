"""Opening the configured database: every caller goes through `open_database` (issue 15).

`[storage] url = "postgresql://..."` chooses PostgreSQL (storage/pg.py), for several
instances sharing one database; without a url, `[storage] path` is the SQLite file
(storage/db.py), the embedded default with one instance per file.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from storage.db import Database as SqliteDatabase
from storage.handle import Database

POSTGRES_SCHEMES = ("postgresql", "postgres")


class StorageSettings(Protocol):
    """What opening needs of the config's [storage] section (bot.config.StorageSection)."""

    @property
    def path(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    def password_text(self) -> str | None: ...


def url_problem(url: str) -> str | None:
    """Why `url` cannot name a PostgreSQL database (None if it can), in a short sentence."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        return "must start with postgresql:// (SQLite is chosen by [storage] path instead)"
    if not parts.hostname and "host=" not in parts.query:
        return "needs a host, like postgresql://sendbot@db.example.org/sendbot"
    if not parts.path.strip("/"):
        return "needs a database name at the end, like postgresql://sendbot@localhost/sendbot"
    try:
        _ = parts.port
    except ValueError:
        return "has a port that is not a number"
    if parts.password is not None:
        return "must not hold the password: set PGPASSWORD (or PGPASSWORD_FILE) instead"
    return None


def uses_postgresql(settings: StorageSettings) -> bool:
    return bool(settings.url)


def describe_target(settings: StorageSettings) -> str:
    """The database as messages name it: the file, or the URL (which holds no password)."""
    return settings.url or settings.path


async def open_database(settings: StorageSettings, *, exclusive: bool = False) -> Database:
    """The configured database, migrated. `exclusive` (anything that delivers) takes SQLite's
    one-bot-per-file lock; PostgreSQL has none, since instances share its work by claims."""
    if settings.url:
        from storage.pg import PgDatabase

        return await PgDatabase.open(settings.url, password=settings.password_text())
    return await SqliteDatabase.open(settings.path, exclusive=exclusive)
