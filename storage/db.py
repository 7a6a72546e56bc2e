"""The database handle: one aiosqlite connection for writing, serialised, with numbered
migrations, and a second, read-only connection for the commands' reads.

One writer connection behind an asyncio lock keeps every transaction whole: two tasks can
never interleave statements inside each other's transaction. Reads that need no transaction
(what a command shows) go to `Database.reader`, a read-only connection on the same file:
with WAL a reader never waits for the writer, so a command is answered while the feed
poller holds the writer for an ingest. A reader sees committed data only, so a caller that
must read its own uncommitted write reads inside its transaction (`Tx`), as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import aiosqlite

from storage.backup import copy_database

# The read-only connection moved to storage/reader.py (issue 12); Reader is re-exported here.
from storage.reader import Reader as Reader
from storage.reader import open_reader
from storage.thread_tx import execute_one, fetch_first, in_one_trip

if TYPE_CHECKING:
    from storage.handle import Tx as TxProtocol

T = TypeVar("T")

log = logging.getLogger(__name__)

_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# A migration holding this line is followed by VACUUM (outside its transaction), so the
# space it freed is handed back to the disk rather than kept as free pages.
VACUUM_AFTER = "-- vacuum-after"


def hash64(text: str | None) -> int | None:
    """A text as a signed 64-bit integer (BLAKE2b): how long keys and hashes are stored when
    only equality matters. Also the SQL function `hash64(text)` on every connection, so
    migrations can convert stored text."""
    if text is None:
        return None
    digest = hashlib.blake2b(str(text).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The SQLite migrations shipped in storage/migrations, in version order (PostgreSQL's,
    with the same numbers, are in storage/migrations/postgresql: storage/pg.py)."""
    return migrations_in(resources.files("storage.migrations"))


def migrations_in(folder: Traversable) -> list[Migration]:
    """The migrations (NNNN_name.sql) in a folder, in version order."""
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


class StorageError(Exception):
    """The database cannot be used; the message is one line naming the file and the remedy."""


class InstanceLocked(StorageError):
    """Another sendbot process holds this database."""


class SchemaTooNew(StorageError):
    """The database was set up by a newer sendbot: this code does not know its schema."""


def newer_schema_message(path: str, found: int, known: int) -> str:
    return (
        f"{path} was set up by a newer sendbot (schema version {found}; this version knows up to {known}):"
        " run that newer version, or restore a backup made with this one (sendbot restore FILE)"
    )


def describe_error(path: str, exc: BaseException) -> str:
    """One readable line for a storage failure: what is wrong with which file, and what to do."""
    text = str(exc).lower()
    where = path or "the database"
    if isinstance(exc, StorageError):
        return str(exc)
    if "disk is full" in text or "database or disk is full" in text or getattr(exc, "errno", None) == errno.ENOSPC:
        return f"the disk holding {where} is full: free some space, then start sendbot again"
    if "readonly" in text or "read-only" in text or getattr(exc, "errno", None) in (errno.EROFS, errno.EACCES):
        return (
            f"{where} cannot be written (a read-only disk or file, or no permission): "
            "check the disk and the file's owner, then start sendbot again"
        )
    if where.startswith(("postgresql://", "postgres://")):
        return describe_pg_error(where, exc)
    if "locked" in text or "busy" in text:
        return f"{where} is locked by another process: stop it (or wait for it), then start sendbot again"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"{where} is damaged (not a readable SQLite database): restore it from a backup, or move it away"
    if "unable to open" in text:
        return f"{where} cannot be opened: check that its folder exists and can be written"
    return f"{where}: {exc}"


def describe_pg_error(where: str, exc: BaseException) -> str:
    """describe_error for a PostgreSQL database (`where` is its URL, without the password)."""
    text = str(exc).lower()
    if "password authentication failed" in text or "no password supplied" in text:
        return f"{where} refused the password: set PGPASSWORD (or PGPASSWORD_FILE) to the right one"
    if "does not exist" in text and "database" in text:
        return f"{where}: the database does not exist: create it (createdb), then start sendbot again"
    if "connect" in text or "refused" in text or "timed out" in text or "connection" in text:
        return f"cannot reach {where}: check that PostgreSQL is running there, then start sendbot again"
    return f"{where}: {exc}"


def split_statements(script: str) -> list[str]:
    """A migration script as single statements (SQLite decides where each ends, so triggers
    with their own semicolons stay whole)."""
    statements, current = [], ""
    for piece in re.split(r"(?<=;)", script):
        current += piece
        if sqlite3.complete_statement(current):
            if current.strip().strip(";").strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not current.strip().startswith("--"):
        statements.append(current.strip())
    return statements


class _InstanceLock:
    """An OS lock on `<database>.lock`, held for the life of the process that runs the bot:
    two bots on one SQLite file would both deliver every post. The lock file names its holder."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise InstanceLocked(
                f"{self.path[:-5]} is in use by another sendbot ({holder}): "
                "only one bot may run on a database; stop the other one first"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # The file stays: removing it would let a third process lock a new inode while a
            # second still waits on the old one.
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def instance_lock(path: str | Path) -> Iterator[None]:
    """Hold the one-bot lock of the database at `path` (raises InstanceLocked naming the
    running bot): `sendbot restore` holds it so that no bot starts on a half-restored file."""
    lock = _InstanceLock(str(path))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


class Tx:
    """Statements inside one transaction (see Database.transaction). Each is one trip to
    aiosqlite's thread and back (no separate fetch or close): mid-cycle every trip waits for a
    turn of a busy event loop, so an ingest's cost is mostly its number of trips."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Returns how many rows the statements changed in all (an INSERT ... ON CONFLICT DO
        NOTHING counts only the rows it wrote)."""
        # The cursor of a finished executemany holds nothing; it is left to be collected.
        cur = await self._conn.executemany(sql, rows)
        return int(max(cur.rowcount, 0))

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """For a query of at most one row (as the reader's)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))


class Database:
    """The SQLite handle (storage/handle.py's Database; PostgreSQL's is storage/pg.py)."""

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: str, instance_lock: _InstanceLock | None = None) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._instance_lock = instance_lock
        self.path = path
        self._reader_conn: sqlite3.Connection | None = None
        # Reads that need no transaction: never queued behind the writer (module docstring).
        self.reader = Reader(None, self)

    @property
    def exclusive(self) -> bool:
        """This process holds the one-bot lock: no other instance uses this database."""
        return self._instance_lock is not None

    @classmethod
    async def open(
        cls, path: str | Path, migrations: list[Migration] | None = None, *, exclusive: bool = False
    ) -> Database:
        """Open (creating folders and file if needed), set pragmas, apply pending migrations.

        `exclusive` (for `sendbot run` and anything else that delivers): take the OS lock that
        keeps a second bot off this database, or raise InstanceLocked naming the holder."""
        path = str(path)
        lock = None
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if exclusive:
                lock = _InstanceLock(path)
                lock.acquire()
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            if lock:
                lock.release()
            raise
        conn.row_factory = sqlite3.Row
        db = cls(conn, path, lock)
        try:
            await conn.create_function("hash64", 1, hash64, deterministic=True)
            await conn.execute("PRAGMA busy_timeout = 5000")
            await conn.execute("PRAGMA foreign_keys = ON")
            # Deleted rows (a forgotten report) are overwritten, not left in free pages; set
            # here rather than trusting the SQLite build's default.
            await conn.execute("PRAGMA secure_delete = ON")
            if path != ":memory:":
                await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await db.migrate(bundled_migrations() if migrations is None else migrations)
            if path != ":memory:":
                db._reader_conn = open_reader(path)
                db.reader = Reader(db._reader_conn, db)
        except BaseException:
            await conn.close()
            if lock:
                lock.release()
            raise
        return db

    async def close(self) -> None:
        async with self._lock:
            try:
                if self._reader_conn is not None:
                    reader, self._reader_conn = self._reader_conn, None
                    self.reader = Reader(None, self)
                    with contextlib.suppress(sqlite3.Error):
                        reader.close()
                await self._conn.close()
            finally:
                if self._instance_lock:
                    self._instance_lock.release()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it, so erased text does not linger in
        the -wal file (called after every erasure and retention run). A reader holding an old
        snapshot can make the truncation partial: that is logged, and the next call finishes it."""
        if self.path == ":memory:":
            return
        async with self._lock, self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        if row is not None and row[0]:
            log.info("database checkpoint was partial (a reader was busy); it completes later")

    async def migrate(self, migrations: list[Migration]) -> list[int]:
        """Apply, in order, each migration not yet recorded. Returns the versions applied.

        Each migration runs in its own BEGIN IMMEDIATE transaction that first re-reads whether
        it is applied: two processes starting together on a new file take turns, and the
        second finds the work done instead of failing on "table already exists"."""
        applied: list[int] = []
        async with self._lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
            )
            async with self._conn.execute("SELECT version FROM schema_migrations") as c:
                present = {int(r[0]) for r in await c.fetchall()}
            known = max((m.version for m in migrations), default=0)
            if present and max(present) > known:
                raise SchemaTooNew(newer_schema_message(self.path, max(present), known))
            pending = [m for m in migrations if m.version not in present]
            if pending and present and self.path != ":memory:":
                # A copy of what is there, before a migration changes it (`<db>.pre-0006.bak`).
                await self._backup_before(min(m.version for m in pending))
            for m in sorted(migrations, key=lambda m: m.version):
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    async with self._conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", (m.version,)
                    ) as c:
                        done = await c.fetchone() is not None
                    if not done:
                        for statement in split_statements(m.sql):
                            await self._conn.execute(statement)
                        await self._conn.execute(
                            "INSERT INTO schema_migrations(version, name) VALUES (?, ?)", (m.version, m.name)
                        )
                        await self._conn.execute(f"PRAGMA user_version = {int(m.version)}")
                    await self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise
                if not done:
                    log.info("applied migration %04d_%s", m.version, m.name)
                    applied.append(m.version)
                    if VACUUM_AFTER in m.sql and self.path != ":memory:":
                        await self._conn.execute("VACUUM")
                        log.info("database compacted after migration %04d", m.version)
        return applied

    async def _backup_before(self, version: int) -> Path:
        """A copy of the database as it is, before migration `version` changes it."""
        dest = Path(f"{self.path}.pre-{version:04d}.bak")
        await asyncio.to_thread(copy_database, self.path, dest)
        log.warning("backed up %s to %s before applying migration %04d", self.path, dest, version)
        return dest

    async def applied_versions(self) -> list[int]:
        rows = await self.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        return [r[0] for r in rows]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """All statements inside commit together or not at all."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                # SQLite may have rolled back already (a full disk): ROLLBACK again would
                # replace the real error with "no transaction is active".
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await self._conn.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (e.g. a deferred foreign key) can leave the transaction
                    # open on the shared connection; every later BEGIN would then fail.
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise

    async def run_transaction(self, body: Callable[[TxProtocol], Awaitable[T]]) -> T:
        """`body(tx)` in one transaction, made in one trip to the database's thread
        (storage/thread_tx.py): for writes made while the event loop is busy. `body` must
        await nothing but its statements. Cancelling the caller does not stop it: it commits
        or rolls back as a whole in the thread."""
        async with self._lock:
            # aiosqlite's own thread and sqlite3 connection: it has no public way to run a
            # function there (every one of its methods is made this way).
            return await self._conn._execute(in_one_trip, self._conn._conn, body)

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """One statement in its own transaction; returns lastrowid (or rowcount for updates)."""
        async with self._lock:
            return await self._conn._execute(execute_one, self._conn._conn, sql, params)  # one trip

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        async with self._lock:
            return await self._conn._execute(fetch_first, self._conn._conn, sql, params)  # one trip

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))
