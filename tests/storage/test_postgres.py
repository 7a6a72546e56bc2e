"""The PostgreSQL handle's own behaviour (storage/pg.py), beyond the repository tests that run
on both backends: placeholders, ids, migrations taken in turn by two instances, the newer
schema refused, no instance lock, and `sendbot db copy` moving a SQLite forum across."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot import cli
from bot.model import Actor, ChannelRef
from storage.audit import AuditLog
from storage.check import check_postgres
from storage.db import Database as SqliteDatabase
from storage.db import Migration, SchemaTooNew, StorageError, bundled_migrations
from storage.feeds import FeedStore
from storage.forum_settings import ForumSettingsRepo
from storage.handle import Database
from storage.leases import Leases
from storage.open import open_database, url_problem
from storage.pending_deletes import PendingDeletes
from storage.pg import PgDatabase, bundled_pg_migrations, display_url
from storage.placeholders import to_numbered
from storage.rate_budget import RateBudget, budget_key
from storage.reports import NewReport, ReportsRepo
from storage.slack_installs import SlackInstall, SlackInstalls
from storage.state import BotState
from tests.storage.test_feed_items import accept_all, item
from tests.support.backends import PgCluster, Settings

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MOD = Actor("console", "m1", "Mod", True)


def test_placeholders_become_numbered_outside_literals_names_and_comments() -> None:
    sql = "SELECT '?', \"a?\", x FROM t -- why?\nWHERE a = ? AND b IN (?, ?) /* ? */ AND c = 'it''s?' AND d = ?"
    assert to_numbered(sql) == (
        "SELECT '?', \"a?\", x FROM t -- why?\nWHERE a = $1 AND b IN ($2, $3) /* ? */ AND c = 'it''s?' AND d = $4"
    )
    assert to_numbered("SELECT $$ ? $$, ?") == "SELECT $$ ? $$, $1"


def test_every_sqlite_migration_has_a_postgresql_one_with_the_same_number_and_name() -> None:
    lite = [(m.version, m.name) for m in bundled_migrations()]
    assert [(m.version, m.name) for m in bundled_pg_migrations()] == lite


def test_a_url_is_checked_and_never_shows_a_password() -> None:
    assert url_problem("postgresql://sendbot@db.example.org:5432/sendbot") is None
    assert "postgresql://" in str(url_problem("mysql://h/db"))
    assert "PGPASSWORD" in str(url_problem("postgresql://u:secret@h/db"))
    assert "database name" in str(url_problem("postgresql://u@h"))
    assert display_url("postgresql://u:secret@h:5/db") == "postgresql://u@h:5/db"


async def test_dialects_name_themselves(database: Database, backend: str) -> None:
    assert database.dialect == backend


async def test_execute_gives_the_new_id_and_executemany_counts_only_rows_written(database: Database) -> None:
    first = await database.execute(
        "INSERT INTO pending_deletes(platform, scope_id, channel_id, message_id, created_at) VALUES (?, ?, ?, ?, ?)",
        ("console", "s", "c", "m1", "2026-11-27T12:00:00Z"),
    )
    async with database.transaction() as tx:
        cur = await tx.execute(
            "INSERT INTO pending_deletes(platform, scope_id, channel_id, message_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ("console", "s", "c", "m2", "2026-11-27T12:00:00Z"),
        )
        assert cur.lastrowid == first + 1 and cur.rowcount == 1
        written = await tx.executemany(
            "INSERT INTO pending_deletes(platform, scope_id, channel_id, message_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [("console", "s", "c", m, "2026-11-27T12:00:00Z") for m in ("m1", "m3", "m2", "m4")],
        )
        assert written == 2  # m1 and m2 were there already
    rows = await database.fetchall("SELECT id, message_id FROM pending_deletes ORDER BY id")
    assert [r["message_id"] for r in rows] == ["m1", "m2", "m3", "m4"] and rows[0][0] == first
    assert dict(rows[0]) == {"id": first, "message_id": "m1"}
    # Many rows at once (PostgreSQL sends them as multi-row INSERTs, several statements here),
    # half of them already there: still counted row by row.
    many = [("console", "s", "c", f"n{n}", "2026-11-27T12:00:00Z") for n in range(14_000)]
    async with database.transaction() as tx:
        sql = (
            "INSERT INTO pending_deletes(platform, scope_id, channel_id, message_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        assert await tx.executemany(sql, many[::2]) == 7_000
        assert await tx.executemany(sql, many) == 7_000
    row = await database.fetchone("SELECT COUNT(*) FROM pending_deletes WHERE message_id LIKE 'n%'")
    assert row is not None and row[0] == 14_000


async def test_a_failed_statement_rolls_back_and_the_handle_stays_usable(database: Database) -> None:
    audit = AuditLog(database)
    with pytest.raises((sqlite3.Error, asyncpg.PostgresError)):
        async with database.transaction() as tx:
            await audit.record(MOD, "console", "will.vanish", tx=tx)
            await tx.execute("INSERT INTO no_such_table VALUES (1)")
    await audit.record(MOD, "console", "stays")
    assert [e.action for e in await audit.recent("console", "console")] == ["stays"]


async def test_small_repositories_write_again_in_place(database: Database) -> None:
    """The upserts (ON CONFLICT) that replaced SQLite's INSERT OR IGNORE / OR REPLACE."""
    state = BotState(database)
    await state.set("k", "one")
    await state.set("k", "two")
    assert await state.get("k") == "two"
    installs = SlackInstalls(database)
    first = SlackInstall("T1", None, "Team", "A1", "B1", "U1", "xoxb-old", "chat:write", "U9", "2026-11-27T12:00:00Z")
    await installs.save(first)
    await installs.save(SlackInstall("T1", "E1", "Team 2", "A1", "B1", "U1", "xoxb-new", "chat:write,im:write", None,
                                     "2026-11-28T12:00:00Z"))  # fmt: skip
    found = await installs.find("T1")
    assert found is not None and (found.bot_token, found.enterprise_id, found.installer_user_id) == (
        "xoxb-new",
        "E1",
        None,
    )
    assert await installs.teams() == ["T1"]
    deletes = PendingDeletes(database)
    await deletes.add("console", "s", "c", "m1", T0)
    await deletes.add("console", "s", "c", "m1", T0)  # recorded once
    for _ in range(5):
        await deletes.failed("console", "c", "m1", "boom")
    assert await deletes.for_platform("console") == []  # dropped after MAX_ATTEMPTS


async def test_an_older_postgresql_schema_upgrades_and_keeps_its_data(pg: PgCluster) -> None:
    url = pg.empty_database()
    old = bundled_pg_migrations()[:1]
    db = await PgDatabase.open(url, old)
    await AuditLog(db).record(MOD, "console", "test.kept")
    await db.close()
    db = await PgDatabase.open(url)
    try:
        assert await db.applied_versions() == [m.version for m in bundled_pg_migrations()]
        assert await db.migrate(bundled_pg_migrations()) == []  # nothing twice
        assert [e.action for e in await AuditLog(db).recent("console", "console")] == ["test.kept"]
    finally:
        await db.close()


async def test_postgresql_reads_never_wait_for_a_transaction_and_see_only_commits(pg: PgCluster) -> None:
    db = await PgDatabase.open(pg.new_database())
    try:
        await AuditLog(db).record(MOD, "console", "x")
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM audit_log")
            row = await asyncio.wait_for(db.reader.fetchone("SELECT COUNT(*) FROM audit_log"), timeout=5)
            assert row is not None and row[0] == 1
        row = await db.reader.fetchone("SELECT COUNT(*) FROM audit_log")
        assert row is not None and row[0] == 0
    finally:
        await db.close()


async def test_two_instances_migrating_a_new_database_together_take_turns(pg: PgCluster) -> None:
    url = pg.empty_database()
    slow = [
        *bundled_pg_migrations(),
        # Holds the first instance inside the migration lock for a moment.
        Migration(999, "slow", "CREATE TABLE slow_marker (id INTEGER); SELECT pg_sleep(0.3);"),
    ]
    first, second = await asyncio.gather(PgDatabase.open(url, slow), PgDatabase.open(url, slow))
    try:
        versions = [m.version for m in slow]
        assert await first.applied_versions() == versions == await second.applied_versions()
    finally:
        await first.close()
        await second.close()


async def test_instances_share_a_postgresql_database_without_the_sqlite_lock(pg: PgCluster) -> None:
    settings = Settings("unused", pg.new_database())
    first = await open_database(settings, exclusive=True)
    second = await open_database(settings, exclusive=True)  # SQLite would refuse: InstanceLocked
    try:
        await AuditLog(first).record(MOD, "console", "from.first")
        assert [e.action for e in await AuditLog(second).recent("console", "console")] == ["from.first"]
    finally:
        await first.close()
        await second.close()


async def test_two_instances_cannot_both_slip_a_report_under_the_limit(pg: PgCluster) -> None:
    url = pg.new_database()
    instances = [await PgDatabase.open(url) for _ in range(3)]
    try:

        async def report(db: PgDatabase, reporter: str) -> int | None:
            new = NewReport("console", "forum", "told", "claim", reporter, "general")
            return await ReportsRepo(db).create_within_limit(new, now=T0, since=T0 - timedelta(days=1), limit=5)

        # Eight parents each try eight times at once through each of three instances.
        tries = [report(db, f"u{n}") for n in range(8) for db in instances for _ in range(8)]
        made = await asyncio.gather(*tries)
        assert len([m for m in made if m is not None]) == 8 * 5
        rows = await instances[0].fetchall("SELECT reporter_id, COUNT(*) FROM reports GROUP BY reporter_id")
        assert {r[1] for r in rows} == {5} and len(rows) == 8  # no parent got a sixth
    finally:
        for db in instances:
            await db.close()


async def test_a_database_from_a_newer_sendbot_is_refused(pg: PgCluster) -> None:
    url = pg.new_database()
    newer = [*bundled_pg_migrations(), Migration(9999, "future", "CREATE TABLE future (id INTEGER);")]
    db = await PgDatabase.open(url, newer)
    await db.close()
    with pytest.raises(SchemaTooNew, match="newer sendbot"):
        await PgDatabase.open(url)


async def test_an_unreachable_server_is_one_readable_line() -> None:
    with pytest.raises(StorageError, match=r"cannot reach .*PostgreSQL is running"):
        await PgDatabase.open("postgresql://nobody@127.0.0.1:1/none")


# -- sendbot db copy ---------------------------------------------------------------------


async def _forum(path: Path) -> None:
    """A SQLite forum with a row in every table: feeds with posts sent and waiting, reports
    with tags and notes, the audit log, a pending delete, bot state, a Slack install."""
    db = await SqliteDatabase.open(path)
    try:
        store = FeedStore(db)
        sub, _ = await store.subscribe("https://e.org/feed", ChannelRef("console", "forum", "news"), T0)
        await store.ingest(sub.feed_id, "F", [item(1)], accept_all, T0, T0, etag=None, last_modified=None,
                           body_hash=None)  # fmt: skip
        later = T0 + timedelta(hours=1)
        await store.ingest(sub.feed_id, "F", [item(3), item(2), item(1)], accept_all, later, later, etag="e",
                           last_modified=None, body_hash=None)  # fmt: skip
        first, _ = await store.due_deliveries(later, ["console"])
        await store.mark_sent(first.id, "m-1", later)
        repo = ReportsRepo(db)
        for n in range(3):
            new = NewReport("console", "forum", "told", f"claim {n}", f"u{n}", "general")
            rid = await repo.create_within_limit(new, now=T0, since=T0 - timedelta(days=1), limit=5)
            assert rid is not None
        await repo.add_tag(2, "school")
        await repo.add_note(2, at=T0, moderator_id="m1", moderator_name="Mod", text="asked")
        await repo.close(1, "resolved", at=T0, resolution="answered")
        await AuditLog(db).record(MOD, "forum", "report.tag", "report #2", "school")
        await PendingDeletes(db).add("console", "forum", "general", "msg-9", T0)
        await BotState(db).set("discord.commands.1.global", "abc")
        await ForumSettingsRepo(db).set(MOD, "forum", "timezone", "Europe/London", at=T0)
        await Leases(db, "old-1-000000", lambda: T0).try_lease("retention", timedelta(hours=1))
        await RateBudget(db, budget_key("discord", "token")).reserve(1_000_000, 20_000)
        await SlackInstalls(db).save(
            SlackInstall("T1", None, "Team", "A1", "B1", "U1", "xoxb-1", "chat:write", "U9", "2026-11-27T12:00:00Z")
        )
    finally:
        await db.close()


def _table_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            n: sorted(tuple(r) for r in conn.execute(f'SELECT * FROM "{n}"'))
            for n in names
            if n != "schema_migrations" and not n.startswith("sqlite_")
        }
    finally:
        conn.close()


async def test_db_copy_moves_every_table_with_its_ids_and_the_bot_carries_on(tmp_path: Path, pg: PgCluster) -> None:
    path = tmp_path / "forum.sqlite3"
    await _forum(path)
    before = _table_rows(path)
    assert all(before.values()), [t for t, rows in before.items() if not rows]  # a row in every table
    url = pg.empty_database()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{path}"\n', encoding="utf-8")

    assert await asyncio.to_thread(cli.main, ["db", "copy", "--to", url, "--config", str(config)]) == 0
    assert _table_rows(path) == before  # the SQLite file is left as it was

    db = await PgDatabase.open(url)
    try:
        for table, rows in before.items():
            columns = [r[1] for r in sqlite3.connect(path).execute(f'PRAGMA table_info("{table}")')]
            copied = await db.fetchall(f"SELECT {', '.join(columns)} FROM {table}")
            assert sorted(tuple(r) for r in copied) == rows, table
        # The sequences moved on: the next report is #4, and the forum works as before.
        repo = ReportsRepo(db)
        new = NewReport("console", "forum", "told", "claim 4", "u4", "general")
        assert await repo.create_within_limit(new, now=T0, since=T0 - timedelta(days=1), limit=5) == 4
        report = await repo.get(2)
        assert report is not None and report.tags == ("school",) and [n.text for n in await repo.notes(2)] == ["asked"]
        store = FeedStore(db)
        [waiting] = await store.due_deliveries(T0 + timedelta(hours=2), ["console"])
        assert (await store.item(int(waiting.item_id or 0))) is not None
        [sub] = await store.subscriptions()
        assert sub.posts_sent == 1
    finally:
        await db.close()


async def test_db_copy_refuses_a_database_that_holds_data_and_changes_nothing(
    tmp_path: Path, pg: PgCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "forum.sqlite3"
    await _forum(path)
    url = pg.new_database()
    db = await PgDatabase.open(url)
    await AuditLog(db).record(MOD, "elsewhere", "already.here")
    await db.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{path}"\n', encoding="utf-8")

    assert await asyncio.to_thread(cli.main, ["db", "copy", "--to", url, "--config", str(config)]) == 1
    assert "is not empty (table audit_log has rows)" in capsys.readouterr().err
    db = await PgDatabase.open(url)
    try:
        assert [tuple(r) for r in await db.fetchall("SELECT action FROM audit_log")] == [("already.here",)]
        assert await db.fetchone("SELECT 1 FROM reports") is None
    finally:
        await db.close()


def test_db_copy_refuses_a_url_holding_a_password_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "forum.sqlite3"}"\n', encoding="utf-8")
    url = "postgresql://sendbot:hunter2@127.0.0.1:1/sendbot"
    assert cli.main(["db", "copy", "--to", url, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "must not hold the password: set PGPASSWORD" in err and "hunter2" not in err
    assert not (tmp_path / "forum.sqlite3").exists()


async def test_sendbot_check_connects_to_postgresql_and_reads_the_schema_version_only(pg: PgCluster) -> None:
    assert check_postgres(pg.new_database()) == []
    empty = pg.empty_database()
    assert check_postgres(empty) == []  # a new database is fine: the bot sets it up
    db = await PgDatabase.open(empty, [*bundled_pg_migrations(), Migration(9999, "future", "SELECT 1;")])
    await db.close()
    [problem] = check_postgres(empty)
    assert problem.startswith("storage.url: ") and "newer sendbot" in problem
    [problem] = check_postgres("postgresql://nobody@127.0.0.1:1/none", timeout=2)
    assert "cannot reach postgresql://nobody@127.0.0.1:1/none" in problem
