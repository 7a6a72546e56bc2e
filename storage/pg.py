"""The PostgreSQL database handle (issue 15): the same interface as storage/db.py's SQLite
one, for deployments where several sendbot instances share one database.

- A pool of connections (asyncpg). A transaction holds one of them from BEGIN to COMMIT;
  reads outside a transaction (`reader`, `fetchone`, `fetchall`) take any free one: with
  PostgreSQL's MVCC a read never waits behind a write, which is what SQLite's separate
  read-only connection gives.
- Within one process, writes take turns behind an asyncio lock, as on SQLite, so the
  repositories' read-then-write steps behave the same on both. Between instances the rows
  themselves are claimed (`FOR UPDATE SKIP LOCKED` where `db.dialect == "postgresql"`).
- SQL is written with `?` placeholders and translated (storage/placeholders.py). An INSERT
  into a table with an `id` gets `RETURNING id`, so `execute` gives the new id as SQLite's
  lastrowid does.
- No instance lock: several instances are the point. Migrations (storage/migrations/
  postgresql/, the same numbers as SQLite's) run in one transaction under an advisory lock,
  so two instances starting together take turns, and a database set up by a newer sendbot
  is refused, as on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.db import Migration, SchemaTooNew, StorageError, describe_pg_error, migrations_in
from storage.handle import Params, Row, Tx
from storage.placeholders import to_numbered

T = TypeVar("T")

log = logging.getLogger(__name__)

# The pg_advisory_xact_lock key meaning "sendbot is migrating this database's schema" (any
# fixed number that no other program sharing the database is likely to use).
MIGRATION_LOCK = 5_138_261_015_001

_INSERT_RE = re.compile(r"^\s*INSERT\s+INTO\s+\"?([A-Za-z_][A-Za-z0-9_]*)\"?", re.IGNORECASE)
_RETURNING_RE = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_COUNT_RE = re.compile(r"(\d+)\s*$")


def bundled_pg_migrations() -> list[Migration]:
    """The PostgreSQL migrations shipped in storage/migrations/postgresql, in version order."""
    return migrations_in(resources.files("storage.migrations").joinpath("postgresql"))


def display_url(url: str) -> str:
    """The URL as it may be shown or logged: without a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def newer_pg_schema_message(where: str, found: int, known: int) -> str:
    return (
        f"{where} was set up by a newer sendbot (schema version {found}; this version knows up to {known}):"
        " run that newer version, or restore a dump made with this one (pg_restore)"
    )


# INSERT INTO t(cols) VALUES (one row of ?s and literals, no nested brackets) [ON CONFLICT DO NOTHING]
_VALUES_RE = re.compile(
    r"^(?P<head>\s*INSERT\s+INTO\s+[^;]*?\bVALUES\s*)(?P<row>\((?:[^()';]|'[^']*')*\))"
    r"(?P<tail>\s*(?:ON\s+CONFLICT\s+(?:\([^()]*\)\s*)?DO\s+NOTHING)?\s*)$",
    re.IGNORECASE | re.DOTALL,
)
# PostgreSQL takes at most 65535 parameters a statement; stay well under.
_MAX_PARAMS = 30000


def _multi_row(sql: str) -> tuple[str, str, str] | None:
    """(head, one row's VALUES tuple, tail) when rows can be sent as one multi-row INSERT:
    a DO UPDATE is left out (two rows for one key in one statement is an error there)."""
    m = _VALUES_RE.match(sql)
    return (m.group("head"), m.group("row"), m.group("tail")) if m else None


def _args(params: Params) -> Sequence[Any]:
    if isinstance(params, dict):
        raise TypeError("named parameters are not supported on PostgreSQL: use ? placeholders")
    return params


def _count(status: str | None) -> int:
    """Rows changed, from a command tag: "INSERT 0 3", "UPDATE 2", "DELETE 0"."""
    m = _COUNT_RE.search(status or "")
    return int(m.group(1)) if m else 0


def _text(value: object) -> str:
    # SQLite stores a number given for a TEXT column as its text; so does this.
    return value if isinstance(value, str) else str(value)


async def setup_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("text", schema="pg_catalog", encoder=_text, decoder=str, format="text")


@dataclass(frozen=True)
class PgResult:
    """What `PgTx.execute` gives back (the shape of a sqlite3 cursor's result)."""

    lastrowid: int | None
    rowcount: int

    async def close(self) -> None:
        return None


async def _execute(conn: asyncpg.Connection, sql: str, params: Params, id_tables: frozenset[str]) -> PgResult:
    query = to_numbered(sql).rstrip().rstrip(";")
    args = _args(params)
    m = _INSERT_RE.match(query)
    if m and m.group(1).lower() in id_tables and not _RETURNING_RE.search(query):
        rows = await conn.fetch(query + " RETURNING id", *args)
        return PgResult(int(rows[-1][0]) if rows else None, len(rows))
    status = await conn.execute(query, *args)
    return PgResult(None, _count(status))


class PgTx:
    """Statements inside one transaction, on the one connection it holds."""

    def __init__(self, conn: asyncpg.Connection, id_tables: frozenset[str]) -> None:
        self._conn = conn
        self._id_tables = id_tables

    async def execute(self, sql: str, params: Params = ()) -> PgResult:
        return await _execute(self._conn, sql, params, self._id_tables)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Returns how many rows the statements changed in all (an INSERT ... ON CONFLICT DO
        NOTHING counts only the rows it wrote). A plain INSERT ... VALUES (or one that does
        nothing on conflict) goes as multi-row INSERTs, a round trip per thousands of rows
        (an ingest's outbox rows); anything else, a statement per row."""
        rows = list(rows)
        batched = _multi_row(sql)
        if batched is not None and rows:
            head, row_sql, tail = batched
            per = max(1, _MAX_PARAMS // max(1, len(rows[0])))
            changed = 0
            for i in range(0, len(rows), per):
                chunk = rows[i : i + per]
                query = to_numbered(head + ", ".join([row_sql] * len(chunk)) + tail)
                changed += _count(await self._conn.execute(query, *[v for r in chunk for v in r]))
            return changed
        stmt = await self._conn.prepare(to_numbered(sql))
        changed = 0
        for row in rows:
            await stmt.fetch(*row)
            changed += _count(stmt.get_statusmsg())
        return changed

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self._conn.fetchrow(to_numbered(sql), *_args(params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.fetch(to_numbered(sql), *_args(params)))


class PgReader:
    """Reads outside any transaction, on any free connection of the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self._pool.fetchrow(to_numbered(sql), *_args(params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._pool.fetch(to_numbered(sql), *_args(params)))


class PgDatabase:
    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._lock = asyncio.Lock()
        self.path = display_url(url)
        self.reader = PgReader(pool)
        # Tables whose INSERTs return the new id (read from the schema after migrating).
        self._id_tables: frozenset[str] = frozenset()

    @property
    def exclusive(self) -> bool:
        """Never: instances share a PostgreSQL database (SQLite's handle says True when it
        holds the one-bot lock)."""
        return False

    @classmethod
    async def open(
        cls,
        url: str,
        migrations: list[Migration] | None = None,
        *,
        password: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> PgDatabase:
        """Connect (the password from the argument, else PGPASSWORD as libpq reads it) and
        apply pending migrations."""
        try:
            pool = await asyncpg.create_pool(
                url, password=password, min_size=min_size, max_size=max_size, init=setup_connection
            )
        except (OSError, asyncpg.PostgresError) as e:
            raise StorageError(describe_pg_error(display_url(url), e)) from e
        db = cls(pool, url)
        try:
            await db.migrate(bundled_pg_migrations() if migrations is None else migrations)
            await db._load_id_tables()
        except BaseException:
            await pool.close()
            raise
        return db

    async def _load_id_tables(self) -> None:
        rows = await self._pool.fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND column_name = 'id' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')"
        )
        self._id_tables = frozenset(str(r[0]).lower() for r in rows)

    async def close(self) -> None:
        async with self._lock:
            await self._pool.close()

    async def checkpoint(self) -> None:
        """Erased text must not linger: VACUUM removes the dead row versions that still hold
        it (SQLite's equivalent truncates its WAL). Autovacuum would get there later anyway."""
        try:
            await self._pool.execute("VACUUM reports, report_notes")
        except asyncpg.PostgresError as e:
            log.info("vacuum after an erasure did not run (%s); autovacuum will do it", e)

    async def migrate(self, migrations: list[Migration]) -> list[int]:
        """Apply, in order, each migration not yet recorded, all in one transaction that first
        takes an advisory lock: a second instance starting at the same time waits, then finds
        the work done. Returns the versions applied."""
        applied: list[int] = []
        async with self._lock, self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL"
                " DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
            )
            present = {int(r[0]) for r in await conn.fetch("SELECT version FROM schema_migrations")}
            known = max((m.version for m in migrations), default=0)
            if present and max(present) > known:
                raise SchemaTooNew(newer_pg_schema_message(self.path, max(present), known))
            for m in sorted(migrations, key=lambda m: m.version):
                if m.version in present:
                    continue
                await conn.execute(m.sql)
                await conn.execute("INSERT INTO schema_migrations(version, name) VALUES ($1, $2)", m.version, m.name)
                log.info("applied migration %04d_%s (postgresql)", m.version, m.name)
                applied.append(m.version)
        return applied

    async def applied_versions(self) -> list[int]:
        rows = await self.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        return [r[0] for r in rows]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        """All statements inside commit together or not at all, on one pooled connection."""
        async with self._lock, self._pool.acquire() as conn, conn.transaction():
            yield PgTx(conn, self._id_tables)

    async def run_transaction(self, body: Callable[[Tx], Awaitable[T]]) -> T:
        """`body(tx)` inside `transaction()` (each statement is a trip to the server anyway)."""
        async with self.transaction() as tx:
            return await body(tx)

    @asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """The driver's own connection inside a transaction, for what only PostgreSQL does
        (COPY, in storage/copy.py). Repositories use `transaction`."""
        async with self._lock, self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction; returns the new id for an INSERT into a
        table with one (else the rows changed)."""
        async with self._lock, self._pool.acquire() as conn:
            result = await _execute(conn, sql, params, self._id_tables)
        if _INSERT_RE.match(sql) and result.lastrowid is not None:
            return result.lastrowid
        return result.rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self.reader.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.reader.fetchall(sql, params)
