"""What every database handle offers, whichever engine is behind it (issue 15).

The repositories are written against these protocols, not against one engine: SQLite
(storage/db.py, the embedded default) and PostgreSQL (storage/pg.py, for several instances
sharing one database) both satisfy them. SQL is written once with `?` placeholders; where
the engines differ, a repository asks `db.dialect` ("sqlite" or "postgresql") and the
variant stays inside storage/ (docs/scaling.md lists where).

A row is read by name (`row["id"]`) and by index (`row[0]`), and `dict(row)` gives its
columns: sqlite3.Row and asyncpg.Record both do that, so `Row` is either.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol, TypeVar

# sqlite3.Row or asyncpg.Record: by name, by index, dict(row).
Row = Any
Params = Sequence[Any] | dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")

_SQLITE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, ConnectionError)


def database_errors() -> tuple[type[BaseException], ...]:
    """What a failing database raises, whichever engine: callers that report storage trouble
    (the poll loop, the CLI) catch these (`except database_errors() as e`). PostgreSQL's
    driver errors are named only once the driver is loaded, so a SQLite bot never imports
    asyncpg (about 3 MB): before that, nothing can raise them."""
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return _SQLITE_ERRORS
    return (*_SQLITE_ERRORS, asyncpg.PostgresError, asyncpg.InterfaceError)


class Result(Protocol):
    """What `Tx.execute` gives back: the new row's id after an INSERT into a table with an
    `id`, and how many rows the statement changed."""

    @property
    def lastrowid(self) -> int | None: ...
    @property
    def rowcount(self) -> int: ...
    async def close(self) -> None: ...


class Reads(Protocol):
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...


class Tx(Reads, Protocol):
    """Statements inside one transaction (Database.transaction)."""

    async def execute(self, sql: str, params: Params = ()) -> Result: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int: ...


class Database(Reads, Protocol):
    """A database handle: one transaction at a time per process for writes, reads from
    `reader` that never wait behind a write."""

    @property
    def dialect(self) -> Dialect: ...
    @property
    def path(self) -> str:
        """Names the database in messages (a file path, or a URL without its password)."""
        ...

    @property
    def reader(self) -> Reads: ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...
    async def run_transaction(self, body: Callable[[Tx], Awaitable[T]]) -> T:
        """`await body(tx)` inside `transaction()`, in as few trips to the engine as it can
        (SQLite: one; `body` must then await nothing but its statements)."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction: the new id after an INSERT into a table with
        an `id` column, else the rows changed."""
        ...

    async def checkpoint(self) -> None: ...
    async def applied_versions(self) -> list[int]: ...
    async def close(self) -> None: ...
