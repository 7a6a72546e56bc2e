"""pg_dump / pg_restore backups (storage/pg_backup.py) against the throwaway PostgreSQL server
(tests/support/postgres.py), with the real tools; and the tool search with stand-in scripts
that only print a version."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from storage.pg import bundled_pg_migrations
from storage.pg_backup import (
    PgBackupError,
    PgTarget,
    dump_into,
    dump_to,
    dumps_in,
    find_tool,
    plan_restore,
    restore_from,
    schema_version,
)
from tests.support.backends import PgCluster
from tests.support.postgres import find_bin

REAL_PG_DUMP = find_bin("pg_dump")


def _sql(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def _state(url: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in _sql(url, "SELECT key, value FROM bot_state ORDER BY key")]


def _put(url: str, key: str, value: str) -> None:
    _sql(url, "INSERT INTO bot_state(key, value, updated_at) VALUES ($1, $2, 'now')", key, value)


def _script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_dump_keep_and_restore_round_trip(pg: PgCluster, tmp_path: Path) -> None:
    source = PgTarget(pg.new_database())
    _put(source.url, "first", "one")
    folder = tmp_path / "backups"
    start = datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    made = []
    for i in range(3):
        dest, removed = dump_into(folder, source, keep=2, now=start + timedelta(days=i))
        made.append(dest)
        if i == 0:
            _put(source.url, "second", "two")  # only the later dumps hold it
    assert removed == [made[0]] and dumps_in(folder) == made[1:]
    assert made[1].read_bytes()[:5] == b"PGDMP"  # custom format (-Fc)

    empty = PgTarget(pg.empty_database())
    plan = plan_restore(made[1], empty, force=False)
    assert plan.tables == 0
    restore_from(made[1], empty, plan)
    assert _state(empty.url) == [("first", "one"), ("second", "two")]
    assert schema_version(empty) == max(m.version for m in bundled_pg_migrations())


def test_a_database_with_tables_needs_force_and_is_then_replaced(pg: PgCluster, tmp_path: Path) -> None:
    source = PgTarget(pg.new_database())
    _put(source.url, "kept", "from the dump")
    dump = dump_to(tmp_path / "one.dump", source)
    other = PgTarget(pg.new_database())
    _put(other.url, "other", "goes away")
    with pytest.raises(PgBackupError, match=r"already has \d+ tables: .*--force"):
        plan_restore(dump, other, force=False)
    assert _state(other.url) == [("other", "goes away")]  # unchanged
    plan = plan_restore(dump, other, force=True)
    restore_from(dump, other, plan)
    assert _state(other.url) == [("kept", "from the dump")]


def test_restore_is_refused_while_someone_is_connected(pg: PgCluster, tmp_path: Path) -> None:
    source = PgTarget(pg.new_database())
    dump = dump_to(tmp_path / "one.dump", source)
    busy = PgTarget(pg.empty_database())

    async def hold_and_plan() -> str:
        conn = await asyncpg.connect(busy.url)  # a running bot's connection
        try:
            with pytest.raises(PgBackupError) as e:
                await asyncio.to_thread(plan_restore, dump, busy, force=True)
            return str(e.value)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        message = pool.submit(asyncio.run, hold_and_plan()).result()
    assert "1 other session is connected" in message and "stop the bot" in message


def test_a_file_that_is_not_a_dump_is_refused(pg: PgCluster, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.dump"
    bogus.write_text("hello", encoding="utf-8")
    with pytest.raises(PgBackupError, match="not a pg_dump custom-format file"):
        plan_restore(bogus, PgTarget(pg.empty_database()), force=False)
    with pytest.raises(PgBackupError, match="is not a file"):
        plan_restore(tmp_path / "missing.dump", PgTarget(pg.empty_database()), force=False)


@pytest.mark.skipif(REAL_PG_DUMP is None, reason="pg_dump is not installed")
def test_the_password_goes_in_the_environment_never_on_the_command_line(
    pg: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "seen"
    # A pg_dump first on PATH that notes its arguments and PGPASSWORD, then runs the real one.
    _script(
        tmp_path / "bin",
        "pg_dump",
        f'echo "ARGS $*" >> {record}; echo "PGPASSWORD=$PGPASSWORD" >> {record}; exec {REAL_PG_DUMP} "$@"',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    target = PgTarget(pg.new_database(), password="s3cret-Pa55")
    dump_to(tmp_path / "x.dump", target)
    seen = record.read_text(encoding="utf-8").splitlines()
    args = [line for line in seen if line.startswith("ARGS ") and "--version" not in line]
    assert args and all("s3cret-Pa55" not in a for a in args)
    assert "--format=custom" in args[0]
    assert "PGPASSWORD=s3cret-Pa55" in seen


def test_the_tool_search_names_a_missing_or_too_old_pg_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(PgBackupError, match=r"pg_dump is not installed: .*postgresql-client-16"):
        find_tool("pg_dump", 16, extra_dirs=str(tmp_path / "none" / "*" / "bin"))

    old = _script(tmp_path / "old", "pg_dump", 'echo "pg_dump (PostgreSQL) 13.4"')
    monkeypatch.setenv("PATH", str(old.parent))
    with pytest.raises(PgBackupError, match=r"pg_dump 13 \(.*\) is older than the server \(PostgreSQL 16\)"):
        find_tool("pg_dump", 16, extra_dirs=str(tmp_path / "none" / "*" / "bin"))

    # Debian keeps each version in its own folder: the newest new-enough one is chosen.
    for major in (14, 17, 18):
        _script(tmp_path / "lib" / str(major) / "bin", "pg_dump", f'echo "pg_dump (PostgreSQL) {major}.1"')
    tool = find_tool("pg_dump", 16, extra_dirs=str(tmp_path / "lib" / "*" / "bin"))
    assert tool.major == 18 and tool.path.endswith("/18/bin/pg_dump")
    assert find_tool("pg_dump", 13, extra_dirs=str(tmp_path / "lib" / "*" / "bin")).path == str(old)


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    target = PgTarget("postgresql://sendbot@127.0.0.1:1/sendbot", password="hidden-pw")
    with pytest.raises(PgBackupError) as e:
        dump_to(tmp_path / "x.dump", target)
    assert "cannot reach postgresql://sendbot@127.0.0.1:1/sendbot" in str(e.value)
    assert "hidden-pw" not in str(e.value) and "\n" not in str(e.value)
    assert not list(tmp_path.iterdir())


def test_a_dump_taken_while_the_bot_writes_is_one_consistent_moment(pg: PgCluster, tmp_path: Path) -> None:
    """Another connection keeps writing two rows per transaction while two dumps are taken:
    each dump, restored, holds whole transactions only (as many `a` rows as `b` rows)."""
    source = PgTarget(pg.new_database())
    stop = asyncio.Event()
    started = asyncio.Event()
    written = 0

    async def write() -> None:
        nonlocal written
        conn = await asyncpg.connect(source.url)
        try:
            while not stop.is_set():
                async with conn.transaction():
                    for side in ("a", "b"):
                        await conn.execute(
                            "INSERT INTO bot_state(key, value, updated_at) VALUES ($1, 'x', 'now')", f"{side}-{written}"
                        )
                        await asyncio.sleep(0)
                written += 1
                if written >= 20:
                    started.set()
        finally:
            await conn.close()

    async def dump_while_writing() -> list[Path]:
        writer = asyncio.create_task(write())
        try:
            await asyncio.wait_for(started.wait(), 30)
            dumps = []
            for i in range(2):
                dumps.append(await asyncio.to_thread(dump_to, tmp_path / f"{i}.dump", source))
            return dumps
        finally:
            stop.set()
            await writer

    with ThreadPoolExecutor(1) as pool:
        dumps = pool.submit(asyncio.run, dump_while_writing()).result()
    counts = []
    for dump in dumps:
        into = PgTarget(pg.empty_database())
        restore_from(dump, into, plan_restore(dump, into, force=False))
        rows = _sql(into.url, "SELECT LEFT(key, 1) AS side, COUNT(*) FROM bot_state GROUP BY side ORDER BY side")
        a, b = (int(r[1]) for r in rows)
        assert a == b >= 20
        counts.append(a)
    assert written >= counts[1] > counts[0]  # the writer went on between the dumps


def test_sendbot_check_warns_when_backups_would_find_no_pg_dump(
    pg: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import parse
    from bot.storage_check import check

    config = parse({"storage": {"url": pg.new_database()}}, environ={})
    assert check(config) == ([], [])  # the real pg_dump is here
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.setattr("storage.pg_backup.DEBIAN_BIN_GLOB", str(tmp_path / "none" / "*" / "bin"))
    problems, warnings = check(config)
    assert problems == []
    [warning] = warnings
    assert re.fullmatch(
        r"storage.url: `sendbot backup` will not work here: pg_dump is not installed: install PostgreSQL's client"
        r" tools, version (\d+) or newer \(Debian/Ubuntu: apt-get install postgresql-client-\1\)",
        warning,
    ), warning
