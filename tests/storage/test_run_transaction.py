"""`Database.run_transaction` (issue 13): a transaction's statements made in one trip to the
SQLite thread (storage/thread_tx.py), with the same all-or-nothing promise as `transaction()`,
on both backends."""

from __future__ import annotations

import asyncio
import threading

import pytest

from storage.handle import Database, Tx
from storage.thread_tx import WaitedInThread


async def _state(database: Database) -> list[tuple[str, str]]:
    rows = await database.fetchall("SELECT key, value FROM bot_state WHERE key LIKE 'rt-%' ORDER BY key")
    return [(r[0], r[1]) for r in rows]


async def test_statements_commit_together_and_answer_as_in_a_transaction(database: Database) -> None:
    async def body(tx: Tx) -> tuple[int, str | None, int]:
        await tx.execute("INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-a", "1"))
        changed = await tx.executemany(
            "INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", [("rt-b", "2"), ("rt-c", "3")]
        )
        one = await tx.fetchone("SELECT value FROM bot_state WHERE key = ?", ("rt-b",))
        every = await tx.fetchall("SELECT key FROM bot_state WHERE key LIKE 'rt-%'")
        result = await tx.execute("UPDATE bot_state SET value = 'x' WHERE key LIKE 'rt-%'")
        assert result.rowcount == 3
        return changed, None if one is None else one[0], len(every)

    assert await database.run_transaction(body) == (2, "2", 3)
    assert await _state(database) == [("rt-a", "x"), ("rt-b", "x"), ("rt-c", "x")]


async def test_an_error_in_the_body_writes_nothing(database: Database) -> None:
    async def body(tx: Tx) -> None:
        await tx.execute("INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-a", "1"))
        raise LookupError("changed my mind")

    with pytest.raises(LookupError):
        await database.run_transaction(body)
    assert await _state(database) == []
    # The connection is usable afterwards (no transaction left open).
    await database.execute("INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-z", "ok"))
    assert await _state(database) == [("rt-z", "ok")]


async def test_a_failing_statement_writes_nothing(database: Database) -> None:
    async def body(tx: Tx) -> None:
        await tx.execute("INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-a", "1"))
        await tx.execute(
            "INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-a", "again")
        )  # unique key

    with pytest.raises(Exception) as raised:
        await database.run_transaction(body)
    assert "unique" in str(raised.value).lower()
    assert await _state(database) == []


@pytest.mark.sqlite_only  # PostgreSQL makes each statement its own round trip, by design
async def test_sqlite_runs_the_body_in_one_trip_off_the_event_loop(database: Database) -> None:
    threads: list[int] = []

    async def body(tx: Tx) -> None:
        threads.append(threading.get_ident())
        await tx.execute("INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-a", "1"))
        threads.append(threading.get_ident())

    await database.run_transaction(body)
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()


@pytest.mark.sqlite_only  # only the one-trip path forbids other awaits
async def test_sqlite_refuses_a_body_that_waits_on_something_else(database: Database) -> None:

    async def body(tx: Tx) -> None:
        await tx.execute("INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')", ("rt-a", "1"))
        await asyncio.sleep(0)  # a real suspension: not allowed in the database thread

    with pytest.raises(WaitedInThread):
        await database.run_transaction(body)
    assert await _state(database) == []


@pytest.mark.sqlite_only  # SQLite's own rollback on a full database
async def test_a_full_database_is_reported_as_full_not_as_a_failed_rollback(database: Database) -> None:
    # SQLite rolls a transaction back by itself when the file cannot grow; the error the
    # poller shows moderators must say so, not "cannot rollback - no transaction is active".
    pages = (await database.fetchone("PRAGMA page_count"))[0]  # type: ignore[index]
    await database.execute(f"PRAGMA max_page_count = {pages + 2}")

    async def body(tx: Tx) -> None:
        await tx.executemany(
            "INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, 'now')",
            [(f"rt-{i}", "x" * 2000) for i in range(200)],
        )

    with pytest.raises(Exception, match="full"):
        await database.run_transaction(body)
    with pytest.raises(Exception, match="full"):
        async with database.transaction() as tx:
            await body(tx)
    assert await _state(database) == []
