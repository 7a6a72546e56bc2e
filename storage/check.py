"""`sendbot check` for the database: will `sendbot run` be able to open `[storage] path`?

The check changes nothing: the file is opened read-only (`mode=ro`), nothing is created, and
the folder is only looked at. A missing file is fine (the bot creates it on first run) as long
as its folder exists or can be created. Each problem is one line naming the file and what to do:
the folder cannot be created or written, the file cannot be read or written, it is not an
SQLite database, it is damaged (`PRAGMA quick_check`), another process has it locked, or it
was written by a newer sendbot (a migration this code does not have).

With `[storage] url` (PostgreSQL) it connects instead and reads the schema version only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg

from storage.db import bundled_migrations, describe_pg_error
from storage.pg import bundled_pg_migrations, display_url, newer_pg_schema_message

KEY = "storage.path"
BUSY_SECONDS = 2.0  # how long a lock held by another process may last before it is reported
_MOVE_AWAY = "restore it from a backup, or move it away so that a new one is created at the next start"


def check_database(path: str) -> list[str]:
    """Problems with the database at `path` (relative to the current folder, as the bot opens it)."""
    if path in ("", ":memory:"):
        return []
    p = Path(path)
    try:
        exists, is_dir = p.exists(), p.is_dir()
    except OSError as e:  # a folder on the way that may not be searched
        return [f"{KEY}: {p} cannot be reached ({e.strerror}): check the permissions of the folders on its path"]
    if not exists:
        return _check_new(p)
    if is_dir:
        return [f"{KEY}: {p} is a folder, not a database file: set [storage] path to a file name inside it"]
    problems: list[str] = []
    if not os.access(p, os.R_OK):
        return [f"{KEY}: {p} cannot be read (no permission): make it readable by the user that runs sendbot"]
    if not os.access(p, os.W_OK):
        problems.append(
            f"{KEY}: {p} cannot be written (a read-only file or disk, or no permission): "
            "make it writable by the user that runs sendbot"
        )
    folder = _folder(p)
    if not os.access(folder, os.W_OK | os.X_OK):
        problems.append(
            f"{KEY}: {p} cannot be used: its folder {folder} cannot be written (SQLite keeps journal files"
            " beside the database): make the folder writable by the user that runs sendbot"
        )
    problem = _open_and_check(p)
    # "Unable to open" after a permission problem above is the same problem again.
    if problem and not (problems and problem.startswith("cannot be opened")):
        problems.append(f"{KEY}: {p} {problem}")
    return problems


def _folder(p: Path) -> Path:
    return p.parent if str(p.parent) else Path(".")


def _check_new(p: Path) -> list[str]:
    """No file yet: the bot will create the folders and the file, if it may."""
    folder = _folder(p)
    existing = folder
    with contextlib.suppress(OSError):
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
    if not existing.is_dir():
        return [
            f"{KEY}: {p} cannot be created: {existing} is a file, not a folder:"
            " choose another [storage] path, or move that file away"
        ]
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == folder:
            why, fix = f"the folder {folder} cannot be written", "make it writable"
        else:
            why = f"the folder {folder} does not exist and cannot be created ({existing} cannot be written)"
            fix = "create it, writable"
        return [
            f"{KEY}: {p} cannot be created: {why}: {fix} by the user that runs sendbot,"
            " or choose another [storage] path"
        ]
    return []


def _open_and_check(p: Path) -> str | None:
    """What is wrong with the file as a database (a phrase following its name), or None."""
    uri = p.resolve().as_uri() + "?mode=ro"
    if _wal_at_rest(p):
        # A WAL database nobody has open: read-only, SQLite would still create the -wal and
        # -shm files beside it. The file alone is the whole database, so read it as is.
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as e:
        return _describe(e)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        results = [str(r[0]) for r in rows]
        if results != ["ok"]:
            first = " ".join(results[0].replace("*** in database main ***", "").split()) if results else "no result"
            more = f" and {len(results) - 1} more" if len(results) > 1 else ""
            return f"is damaged (quick_check: {first[:120]}{more}): {_MOVE_AWAY}"
        return _newer_schema(conn)
    except sqlite3.Error as e:
        return _describe(e)
    finally:
        conn.close()


def _wal_at_rest(p: Path) -> bool:
    """An SQLite file in WAL mode (header bytes 18-19) with no -wal or -shm beside it: no
    process has it open (any that had would have made them), so nothing can be locked."""
    try:
        with p.open("rb") as f:
            header = f.read(20)
    except OSError:
        return False
    wal = header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"
    return wal and not any(Path(f"{p}{suffix}").exists() for suffix in ("-wal", "-shm"))


def _newer_schema(conn: sqlite3.Connection) -> str | None:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not has_table:
        return None
    (newest,) = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    known = max((m.version for m in bundled_migrations()), default=0)
    if newest is None or int(newest) <= known:
        return None
    return (
        f"was set up by a newer sendbot (schema version {int(newest)}; this version knows up to {known}):"
        " run that newer version, or restore a backup made with this one"
    )


def _describe(e: sqlite3.Error) -> str:
    text = str(e).lower()
    if "not a database" in text:
        return (
            "is not an SQLite database: set [storage] path to the bot's database, "
            "or move this file away so that a new one is created at the next start"
        )
    if "malformed" in text or "corrupt" in text:
        return f"is damaged ({e}): {_MOVE_AWAY}"
    if "locked" in text or "busy" in text:
        return "is locked by another process: stop that process (or wait for it to finish), then check again"
    if "unable to open" in text:
        return "cannot be opened: check the file and its folder can be read by the user that runs sendbot"
    return f"cannot be used ({e}): {_MOVE_AWAY}"


def check_postgres(url: str, password: str | None = None, *, timeout: float = 5.0) -> list[str]:
    """Problems with the PostgreSQL database at `url`: it cannot be reached (or refuses the
    password), or a newer sendbot set it up. Nothing is created or migrated. Runs on its own
    thread's event loop, so it works whether or not the caller has one running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _probe_postgres(url, password, timeout)).result()


async def _probe_postgres(url: str, password: str | None, wait_s: float) -> list[str]:
    where = display_url(url)
    try:
        conn = await asyncpg.connect(url, password=password, timeout=wait_s)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        return [f"storage.url: {describe_pg_error(where, e)}"]
    try:
        if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
            found = await conn.fetchval("SELECT MAX(version) FROM schema_migrations")
            known = max(m.version for m in bundled_pg_migrations())
            if found is not None and found > known:
                return [f"storage.url: {newer_pg_schema_message(where, int(found), known)}"]
    finally:
        await conn.close()
    return []
