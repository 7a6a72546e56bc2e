"""Backups of a PostgreSQL database with PostgreSQL's own tools (issue 16 on issue 15's backend).

- `dump_into(folder, target, keep)`: `pg_dump -Fc` (custom format: compressed, and what
  `pg_restore` reads) into a timestamped file, keeping the newest `keep`, as SQLite's copies are.
- `restore_from(file, target, force)`: `pg_restore` into the configured database; refused while
  other sessions are connected to it (a running bot), and into a database that already has
  tables unless `force` (then it replaces them in one transaction).

The password goes to the tools in their environment (PGPASSWORD), never on their command line,
where any user of the machine could read it (`ps`), and never into a message. The tools are found
on PATH, else in Debian's /usr/lib/postgresql/<major>/bin, choosing one not older than the server:
an older pg_dump refuses to dump a newer server.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg

from storage.backup import BackupError, rotate_into, stamped_in, stamped_name
from storage.db import describe_pg_error
from storage.pg import display_url

DUMP_SUFFIX = ".dump"
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)")
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
CONNECT_TIMEOUT_S = 10
TOOL_TIMEOUT_S = 6 * 3600  # a very large database; a hung tool is not waited on for ever


class PgBackupError(Exception):
    """The dump or restore cannot be made; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class PgTarget:
    """The database: its URL (which never holds a password) and the password, if any."""

    url: str
    password: str | None = None

    @property
    def shown(self) -> str:
        return display_url(self.url)

    def env(self) -> dict[str, str]:
        """The tools' environment: ours, with the password and a connect timeout added."""
        env = dict(os.environ)
        env.pop("PGPASSWORD_FILE", None)  # ours, not libpq's; the text is passed below
        if self.password:
            env["PGPASSWORD"] = self.password
        env.setdefault("PGCONNECT_TIMEOUT", str(CONNECT_TIMEOUT_S))
        return env


@dataclass(frozen=True)
class Tool:
    path: str
    major: int


def tool_major(path: str) -> int | None:
    """The major version `path --version` reports (`pg_dump (PostgreSQL) 15.18` -> 15)."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION_RE.search(out)
    return int(m.group(1)) if m else None


def find_tool(name: str, server_major: int, *, extra_dirs: str | None = None) -> Tool:
    """`name` (pg_dump, pg_restore) of a major version at least the server's: from PATH first,
    then the newest of `extra_dirs` (a glob; Debian's folders unless given)."""
    extra_dirs = extra_dirs or DEBIAN_BIN_GLOB
    candidates: list[str] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates += sorted(glob.glob(os.path.join(extra_dirs, name)), key=_dir_version, reverse=True)
    found: list[Tool] = []
    for path in candidates:
        major = tool_major(path)
        if major is not None:
            found.append(Tool(path, major))
            if major >= server_major:
                return found[-1]
    if not found:
        raise PgBackupError(
            f"{name} is not installed: install PostgreSQL's client tools, version {server_major} or newer"
            f" (Debian/Ubuntu: apt-get install postgresql-client-{server_major})"
        )
    newest = max(found, key=lambda t: t.major)
    raise PgBackupError(
        f"{name} {newest.major} ({newest.path}) is older than the server (PostgreSQL {server_major}):"
        f" install postgresql-client-{server_major} or newer and put it first on PATH"
    )


def _dir_version(path: str) -> int:
    m = re.search(r"/(\d+)/bin/", path)
    return int(m.group(1)) if m else 0


async def _probe(target: PgTarget) -> tuple[int, int, int]:
    """(server major version, tables in the schema, other sessions on this database)."""
    try:
        conn = await asyncpg.connect(target.url, password=target.password, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise PgBackupError(describe_pg_error(target.shown, e)) from None
    try:
        major = conn.get_server_version().major
        tables = await conn.fetchval(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        others = await conn.fetchval(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
    finally:
        await conn.close()
    return int(major), int(tables or 0), int(others or 0)


def probe(target: PgTarget) -> tuple[int, int, int]:
    """`_probe` from synchronous code (the CLI), on a loop of its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _probe(target)).result()


def backup_tool_problem(target: PgTarget) -> str | None:
    """Why `sendbot backup` could not dump this database from here (no pg_dump, or one older
    than the server), for `sendbot check` to warn about before the first nightly backup fails."""
    try:
        major, _, _ = probe(target)
        find_tool("pg_dump", major)
    except PgBackupError as e:
        return str(e)
    return None


def dump_name(now: datetime | None = None) -> str:
    """`sendbot-20261128T031500Z.dump`: sorts by time, in UTC (the compose file's nightly
    service writes the same names)."""
    return stamped_name(DUMP_SUFFIX, now)


def dumps_in(folder: str | Path) -> list[Path]:
    """The dumps `dump_into` made in `folder`, oldest first."""
    return stamped_in(folder, DUMP_SUFFIX)


def _run(tool: Tool, args: list[str], target: PgTarget) -> None:
    try:
        done = subprocess.run(
            [tool.path, *args], env=target.env(), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise PgBackupError(f"{Path(tool.path).name} did not finish within {TOOL_TIMEOUT_S // 3600} hours") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        why = lines[0] if lines else f"exit code {done.returncode}"
        raise PgBackupError(f"{Path(tool.path).name} failed: {why[:300]}")


def dump_to(file: str | Path, target: PgTarget) -> Path:
    """A custom-format dump of the database at `file` (written beside it, renamed when whole)."""
    major, _, _ = probe(target)
    tool = find_tool("pg_dump", major)
    dest = Path(file)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    try:
        args = ["--format=custom", "--no-owner", "--no-privileges", f"--file={part}", f"--dbname={target.url}"]
        _run(tool, args, target)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return dest


def dump_into(folder: str | Path, target: PgTarget, keep: int, now: datetime | None = None) -> tuple[Path, list[Path]]:
    """A new timestamped dump in `folder`; then only the newest `keep` dumps stay."""
    try:
        return rotate_into(folder, DUMP_SUFFIX, lambda dest: dump_to(dest, target), keep, now)
    except BackupError as e:  # --keep below 1
        raise PgBackupError(str(e)) from None


@dataclass(frozen=True)
class RestorePlan:
    """What a restore will do, found before doing it."""

    tool: Tool
    tables: int  # tables already in the database (replaced only with force)


def plan_restore(file: str | Path, target: PgTarget, *, force: bool) -> RestorePlan:
    """Check that `file` can be restored into the database now; else PgBackupError saying why."""
    path = Path(file)
    if not path.is_file():
        raise PgBackupError(f"{path} is not a file")
    with path.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise PgBackupError(f"{path} is not a pg_dump custom-format file (make one with `sendbot backup`)")
    major, tables, others = probe(target)
    if others:
        sessions = "session is" if others == 1 else "sessions are"
        raise PgBackupError(
            f"{others} other {sessions} connected to {target.shown} (a running bot?): stop the bot, then restore"
        )
    if tables and not force:
        raise PgBackupError(
            f"{target.shown} already has {tables} tables: restore into an empty database,"
            " or add --force to replace them (take a backup first)"
        )
    return RestorePlan(find_tool("pg_restore", major), tables)


def restore_from(file: str | Path, target: PgTarget, plan: RestorePlan) -> None:
    """pg_restore the dump into the database in one transaction: all of it or none of it.
    With tables already there (`force` was given to `plan_restore`), they are dropped first."""
    args = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", f"--dbname={target.url}"]
    if plan.tables:
        args[:0] = ["--clean", "--if-exists"]
    _run(plan.tool, [*args, str(file)], target)


async def _schema_version(target: PgTarget) -> int:
    try:
        conn = await asyncpg.connect(target.url, password=target.password, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise PgBackupError(describe_pg_error(target.shown, e)) from None
    try:
        return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)
    except asyncpg.UndefinedTableError:
        raise PgBackupError(f"{target.shown} has no schema_migrations table: that dump was not sendbot's") from None
    finally:
        await conn.close()


def schema_version(target: PgTarget) -> int:
    """The schema version the database holds now (after a restore: the dump's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _schema_version(target)).result()
