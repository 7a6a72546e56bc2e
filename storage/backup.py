"""Copies of the database made with SQLite's online backup API, and putting one back.

The online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot while the
bot keeps running and writing: the copy is one transaction's view of the database, never a
file caught half-way through a write, as copying the file (and forgetting its -wal) can be.

- `copy_database(src, dest)`: a self-contained copy (journal mode DELETE, so the one file is
  the whole database), written beside `dest` and renamed into place only once it is complete
  and passes `PRAGMA quick_check`.
- `backup_into(folder, src, keep)`: a timestamped copy in a folder, keeping the newest `keep`.
- `check_backup(path, known)`: is this file a sendbot database this code can use?
- `restore_into(src, dest)`: the backup API again, the other way: the live database's pages
  are replaced inside one SQLite transaction, so its -wal and -shm stay consistent.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BUSY_MS = 10_000
SUFFIX = ".sqlite3"


class BackupError(Exception):
    """A backup or restore cannot be made; the message is one line naming the file and the fix."""


def _connect(path: str | Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_MS / 1000)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return conn


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def copy_database(src: str | Path, dest: str | Path) -> Path:
    """Copy the database at `src` to the file `dest` (replacing it), consistently, while other
    connections may be writing. Returns `dest`."""
    src, dest = Path(src), Path(dest)
    if not src.is_file():
        raise BackupError(f"there is no database at {src} to back up")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two processes starting together on one database may both back it up
    # before migrating; each writes its own part and the renames are atomic, so neither can
    # truncate the other's copy mid-write (that was a "disk I/O error").
    part = dest.with_name(f"{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    source = _connect(src)
    try:
        target = sqlite3.connect(str(part), isolation_level=None)
        try:
            # pages=-1: the whole database in one step, under one read transaction: a snapshot.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode = DELETE")
            result = [r[0] for r in target.execute("PRAGMA quick_check").fetchall()]
            if result != ["ok"]:
                raise BackupError(f"the copy of {src} failed its check ({result[0]}): the database may be damaged")
        finally:
            target.close()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    with part.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)
    _fsync_dir(dest.parent)
    return dest


def stamped_name(suffix: str, now: datetime | None = None, *, micro: bool = False) -> str:
    """`sendbot-20261128T031500Z<suffix>`: sorts by time, in UTC (with microseconds when two
    copies fall within one second). Shared by SQLite copies and PostgreSQL dumps."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return f"sendbot-{when.strftime('%Y%m%dT%H%M%S%fZ' if micro else '%Y%m%dT%H%M%SZ')}{suffix}"


def stamped_in(folder: str | Path, suffix: str) -> list[Path]:
    """The copies named by `stamped_name` with this suffix in `folder`, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    pattern = re.compile(r"^sendbot-\d{8}T\d{6}(\d{6})?Z" + re.escape(suffix) + "$")
    return sorted(p for p in folder.glob(f"sendbot-*{suffix}") if pattern.match(p.name))


def rotate_into(
    folder: str | Path, suffix: str, make: Callable[[Path], Path], keep: int, now: datetime | None = None
) -> tuple[Path, list[Path]]:
    """`make` a new stamped copy in `folder`; then only the newest `keep` stay. Returns the new
    copy and the copies removed."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    folder = Path(folder)
    dest = folder / stamped_name(suffix, now)
    if dest.exists():  # two copies within one second
        dest = folder / stamped_name(suffix, now, micro=True)
    made = make(dest)
    copies = stamped_in(folder, suffix)
    removed = copies[:-keep] if len(copies) > keep else []
    for old in removed:
        old.unlink(missing_ok=True)
    return made, removed


def backup_name(now: datetime | None = None) -> str:
    """`sendbot-20261128T031500Z.sqlite3`: sorts by time, in UTC."""
    return stamped_name(SUFFIX, now)


def backups_in(folder: str | Path) -> list[Path]:
    """The copies `backup_into` made in `folder`, oldest first."""
    return stamped_in(folder, SUFFIX)


def backup_into(folder: str | Path, src: str | Path, keep: int, now: datetime | None = None) -> tuple[Path, list[Path]]:
    """A new timestamped copy of `src` in `folder`; then only the newest `keep` copies stay.
    Returns the new copy and the copies removed."""
    return rotate_into(folder, SUFFIX, lambda dest: copy_database(src, dest), keep, now)


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    schema_version: int


def check_backup(path: str | Path, known: int) -> BackupInfo:
    """The file is an intact sendbot database (`PRAGMA integrity_check`, a `schema_migrations`
    table) whose schema this code knows (at most version `known`); else BackupError."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        conn = _connect(path, read_only=True)
    except sqlite3.Error as e:
        raise BackupError(f"{path} cannot be opened ({e})") from None
    try:
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{path} is not an SQLite database ({e})") from None
        if rows != ["ok"]:
            raise BackupError(f"{path} is damaged (integrity_check: {rows[0][:120]}): choose another backup")
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone()
        if not has:
            raise BackupError(f"{path} is an SQLite database but not sendbot's (no schema_migrations table)")
        (newest,) = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    finally:
        conn.close()
    version = int(newest or 0)
    if version > known:
        raise BackupError(
            f"{path} was made by a newer sendbot (schema version {version}; this version knows up to {known}):"
            " restore it with that newer version"
        )
    return BackupInfo(path, version)


def restore_into(src: str | Path, dest: str | Path) -> None:
    """Replace the database at `dest` (created if absent) with the contents of `src`, through
    the backup API and so inside SQLite's own locking: a reader sees the old database or the
    new one. The caller holds the bot's instance lock, so no bot is writing."""
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    source = _connect(src, read_only=True)
    try:
        target = _connect(dest)
        try:
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode = WAL")
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
    finally:
        source.close()
