"""A whole SQLite transaction in one trip to the database's thread.

aiosqlite runs each statement in its own thread and hands the answer back to the event loop:
one trip per statement. Mid-cycle, with a thousand fetches in flight, each trip waits for a
turn of a busy loop, so a feed's ingest (about fourteen statements) spent most of its time
waiting for those turns, and ingests are written one at a time. `in_one_trip` runs the same
transaction code (written against storage/handle.py's Tx, as for PostgreSQL) in the database
thread instead: its statements are made on the sqlite3 connection directly, so its coroutine
never waits and is driven to the end with one `send`. A transaction body that awaits anything
else (a lock, a network call) is a bug here: it is rolled back and reported.

Once handed to the thread, a transaction runs to its end there even if the task awaiting it is
cancelled (at shutdown, say): it commits or rolls back as a whole, and the next statement of
anyone waits behind it in the same thread, so nothing interleaves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from storage.handle import Params, Tx

T = TypeVar("T")


class _Result:
    """Tx.execute's answer (storage/handle.py Result) from a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.lastrowid = cursor.lastrowid
        self.rowcount = cursor.rowcount
        cursor.close()

    async def close(self) -> None:
        pass


class ThreadTx:
    """storage/handle.py's Tx on the sqlite3 connection itself, for the database's thread:
    every method completes without waiting."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> _Result:
        return _Result(self._conn.execute(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        cursor = self._conn.executemany(sql, rows)
        changed = max(cursor.rowcount, 0)
        cursor.close()
        return changed

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = self._conn.execute(sql, params).fetchmany(1)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()


class WaitedInThread(RuntimeError):
    """A transaction body run by `in_one_trip` awaited something other than its statements."""


def _drive(awaitable: Awaitable[T]) -> T:
    coro = awaitable.__await__()
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
    raise WaitedInThread("a transaction run in the database thread waited on something other than SQLite")


def in_one_trip(conn: sqlite3.Connection, body: Callable[[Tx], Awaitable[T]]) -> T:
    """Run `body` in one transaction on `conn`; call in the connection's own thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = _drive(body(ThreadTx(conn)))
    except BaseException:
        # SQLite has already rolled back on some errors (a full disk): a second ROLLBACK
        # would hide the real error behind "no transaction is active".
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        # As Database.transaction: a failed COMMIT can leave the transaction open.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def execute_one(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    """One statement (its own transaction): the new row's id after an INSERT, else the rows
    changed (Database.execute), in one trip."""
    cursor = conn.execute(sql, params)
    try:
        result = cursor.lastrowid if sql.lstrip()[:6].upper() == "INSERT" else cursor.rowcount
    finally:
        cursor.close()
    return int(result or 0)


def fetch_first(conn: sqlite3.Connection, sql: str, params: Params) -> sqlite3.Row | None:
    rows = conn.execute(sql, params).fetchmany(1)
    return rows[0] if rows else None
