"""Storage on a real SQLite file: migrations, pragmas, transactions, the audit log."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.model import Actor
from storage.audit import AuditLog
from storage.db import Database, Migration, bundled_migrations, hash64


async def test_migrations_apply_to_an_empty_database_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bot.sqlite3"
    db = await Database.open(path)
    try:
        versions = await db.applied_versions()
        assert versions == [m.version for m in bundled_migrations()]
        row = await db.fetchone("PRAGMA user_version")
        assert row is not None and row[0] == versions[-1]
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
    finally:
        await db.close()
    assert path.exists()


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    await db.close()
    db = await Database.open(path)
    try:
        assert await db.migrate(bundled_migrations()) == []
        rows = await db.fetchall("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version")
        assert all(r[1] == 1 for r in rows)
    finally:
        await db.close()


async def test_database_made_by_an_older_migration_set_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    old = [Migration(1, "initial", bundled_migrations()[0].sql)]
    db = await Database.open(path, migrations=old)
    await AuditLog(db).record(Actor("console", "u", "Mod", True), "console", "test.kept")
    await db.close()

    newer = [*old, Migration(2, "add_thing", "CREATE TABLE thing (id INTEGER PRIMARY KEY, v TEXT);")]
    db = await Database.open(path, migrations=newer)
    try:
        assert await db.applied_versions() == [1, 2]
        await db.execute("INSERT INTO thing(v) VALUES ('x')")
        entries = await AuditLog(db).recent("console", "console")
        assert [e.action for e in entries] == ["test.kept"]  # data survived the upgrade
    finally:
        await db.close()


async def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    broken = [Migration(1, "half", "CREATE TABLE a (id INTEGER);\nTHIS IS NOT SQL;")]
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(path, migrations=broken)
    db = await Database.open(path, migrations=[])
    try:
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "a" not in tables
        assert await db.applied_versions() == []
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    audit = AuditLog(db)
    mod = Actor("console", "m1", "Mod", True)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await audit.record(mod, "console", "will.vanish", tx=tx)
                raise RuntimeError("abort")
        async with db.transaction() as tx:
            await audit.record(mod, "console", "stays", target="report:1", detail="x" * 900, tx=tx)
        entries = await audit.recent("console", "console")
        assert [e.action for e in entries] == ["stays"]
        assert entries[0].actor_name == "Mod" and len(entries[0].detail) == 500
    finally:
        await db.close()


async def test_a_failed_commit_rolls_back_and_the_connection_stays_usable(tmp_path: Path) -> None:
    migration = Migration(
        1,
        "deferred",
        "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        " CREATE TABLE child(id INTEGER PRIMARY KEY,"
        " parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
    )
    db = await Database.open(tmp_path / "t.sqlite3", migrations=[migration])
    try:
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO child(parent_id) VALUES (99)")  # checked only at COMMIT
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO parent(id) VALUES (1)")
            await tx.execute("INSERT INTO child(parent_id) VALUES (1)")
        assert [tuple(r) for r in await db.fetchall("SELECT id, parent_id FROM child")] == [(1, 1)]
    finally:
        await db.close()


async def test_the_reader_is_read_only_sees_commits_and_never_waits_for_the_writer(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "r.sqlite3")
    try:
        await db.execute(
            "INSERT INTO audit_log(platform, scope_id, actor_id, actor_name, action) VALUES ('c','s','a','A','x')"
        )
        with pytest.raises(sqlite3.OperationalError):
            await db.reader.fetchall("DELETE FROM audit_log")
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM audit_log")
            # The writer's lock is held: a read through it would wait for ever.
            row = await asyncio.wait_for(db.reader.fetchone("SELECT COUNT(*) FROM audit_log"), timeout=5)
            assert row is not None and row[0] == 1  # committed rows only
        row = await db.reader.fetchone("SELECT COUNT(*) FROM audit_log")
        assert row is not None and row[0] == 0
    finally:
        await db.close()


async def test_an_in_memory_database_reads_through_the_writer() -> None:
    db = await Database.open(":memory:")
    try:
        row = await db.reader.fetchone("SELECT COUNT(*) FROM schema_migrations")
        assert row is not None and row[0] == len(bundled_migrations())
    finally:
        await db.close()


def test_hash64_is_a_stable_signed_64_bit_integer() -> None:
    assert hash64("guid:1") == hash64("guid:1") != hash64("guid:2")
    value = hash64("link:https://e.org/a")
    assert value is not None and -(2**63) <= value < 2**63
    assert hash64(None) is None
