"""Moving a forum's SQLite database into an empty PostgreSQL one (`sendbot db copy`, issue 15).

Both are first brought to this version's schema (their migrations have the same numbers),
then every table is copied whole, parents before children (the foreign keys say the order),
ids kept, in one PostgreSQL transaction: a copy that fails leaves the target as empty as it
was. The identity sequences are then moved past the highest id copied, so the next report is
numbered after the last one. The SQLite file is held with the one-bot lock throughout, so no
bot writes to it while it is read, and it is left exactly as it was.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from storage.db import Database as SqliteDatabase
from storage.db import StorageError
from storage.pg import PgDatabase, setup_connection

BATCH = 2000
# Tables that are sendbot's bookkeeping, not the forum's data: each side keeps its own.
_NOT_COPIED = {"schema_migrations"}


class CopyError(StorageError):
    """The copy cannot be made (the target holds data, the schemas differ); nothing was written."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied, in copy order

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _tables_in_order(conn: sqlite3.Connection) -> list[str]:
    """The SQLite file's tables, each after the tables its foreign keys point to."""
    names = [
        str(r[0])
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    tables = sorted(n for n in names if n not in _NOT_COPIED)
    parents = {t: {str(r[2]) for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')} - {t} for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise CopyError(f"the tables' foreign keys form a loop: {sorted(set(tables) - set(ordered))}")
        ordered += ready
    return ordered


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]


async def copy_sqlite_to_postgres(source: str | Path, url: str, *, password: str | None = None) -> CopyReport:
    """Copy every table of the SQLite database at `source` into the (empty) PostgreSQL
    database at `url`. Raises CopyError, saying why, when it cannot."""
    if not await asyncio.to_thread(Path(source).is_file):
        raise CopyError(f"no SQLite database at {source}")
    # Opening applies any pending migrations and takes the lock that keeps a bot off the file.
    lite = await SqliteDatabase.open(source, exclusive=True)
    try:
        target = await PgDatabase.open(url, password=password, max_size=2)
        try:
            mine, theirs = await lite.applied_versions(), await target.applied_versions()
            if mine != theirs:
                raise CopyError(f"the schemas differ (SQLite {mine[-1:]}, PostgreSQL {theirs[-1:]}): upgrade sendbot")
            return await _copy(Path(source), target)
        finally:
            await target.close()
    finally:
        await lite.close()


async def _copy(source: Path, target: PgDatabase) -> CopyReport:
    uri = f"file:{await asyncio.to_thread(os.path.abspath, source)}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    report = CopyReport()
    try:
        tables = _tables_in_order(conn)
        async with target.raw_transaction() as pg:
            # COPY speaks binary, which the handle's lenient text codec (storage/pg.py) does
            # not; SQLite's TEXT columns hold text anyway. The codec is set again below.
            await pg.reset_type_codec("text", schema="pg_catalog")
            for table in tables:
                present = await pg.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
                if present:
                    raise CopyError(f"{target.path} is not empty (table {table} has rows): copy into a new database")
                pg_columns = {
                    str(r[0])
                    for r in await pg.fetch(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_schema = current_schema() AND table_name = $1",
                        table,
                    )
                }
                columns = _columns(conn, table)
                if missing := [c for c in columns if c not in pg_columns]:
                    raise CopyError(f"PostgreSQL's {table} lacks the columns {missing}: upgrade sendbot")
                report.rows[table] = await _copy_table(conn, pg, table, columns)
            for table in tables:
                if "id" in _columns(conn, table):
                    # Next id after the highest copied (or 1 for an empty table).
                    await pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1),"
                        f' MAX(id) IS NOT NULL) FROM "{table}"'
                    )
            await setup_connection(pg)
    finally:
        conn.close()
    return report


async def _copy_table(conn: sqlite3.Connection, pg: asyncpg.Connection, table: str, columns: list[str]) -> int:
    """Rows of one table, in batches, by PostgreSQL's COPY (ids and all)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.execute(f'SELECT {cols} FROM "{table}"')
    copied = 0
    while batch := cursor.fetchmany(BATCH):
        await pg.copy_records_to_table(table, records=batch, columns=columns)
        copied += len(batch)
    return copied
