"""The read-only reader connection the commands read through (see storage/db.py's docstring
on why commands never wait behind the writer).

Split from storage/db.py (issue 12): it changes with how reads are made, not with the writer,
the migrations or the instance lock.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.db import Database


class Reader:
    """Reads on the read-only connection (see storage/db.py's docstring), made on the event
    loop's own thread: each is an indexed lookup of a few rows (well under a millisecond),
    and a trip to a worker thread would cost more, since its answer waits for a turn of an
    event loop that is busy mid-cycle. A WAL reader takes no lock the writer holds; in the
    rare moment SQLite answers "busy" (busy_timeout 0: the loop never waits), the read is
    made through the writer instead. Without a reader (an in-memory database) every read
    goes through the writer."""

    def __init__(self, conn: sqlite3.Connection | None, db: Database) -> None:
        self._conn = conn
        self._db = db

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """For a query of at most one row."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        if self._conn is not None:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
        return await self._db.fetchall(sql, params)


def _reader_uri(path: str) -> str:
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"


def open_reader(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(_reader_uri(path), uri=True, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn
