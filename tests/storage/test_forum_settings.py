"""storage/forum_settings.py on both backends (a real SQLite file, a throwaway PostgreSQL):
each forum's values, and the audit row written in the same transaction as the change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.model import Actor
from storage.audit import AuditLog
from storage.db import Database as SqliteDatabase
from storage.forum_settings import ForumSettingsRepo
from storage.handle import Database

MOD = Actor("discord", "m1", "Mod Maya", is_moderator=True)
OTHER = Actor("discord", "m2", "Mod Sam", is_moderator=True)


async def test_set_get_all_and_reset_keep_forums_apart(database: Database) -> None:
    db = database
    repo = ForumSettingsRepo(db)
    assert await repo.get("discord", "G1", "timezone") is None
    assert await repo.set(MOD, "G1", "timezone", "Europe/Paris") is None
    assert await repo.set(OTHER, "G1", "timezone", "Europe/Dublin") == "Europe/Paris"
    await repo.set(MOD, "G2", "timezone", "America/New_York")
    await repo.set(MOD, "G1", "show-reporter", "yes")

    assert await repo.get("discord", "G1", "timezone") == "Europe/Dublin"
    assert await repo.get("slack", "G1", "timezone") is None  # another platform's G1
    g1 = await repo.all("discord", "G1")
    assert sorted(g1) == ["show-reporter", "timezone"]
    assert g1["timezone"].updated_by == "m2" and g1["timezone"].updated_at.endswith("Z")
    assert (await repo.all("discord", "G2"))["timezone"].value == "America/New_York"

    assert await repo.reset(MOD, "G1", "timezone") == "Europe/Dublin"
    assert await repo.reset(MOD, "G1", "timezone") is None  # nothing left to forget
    assert await repo.get("discord", "G1", "timezone") is None
    assert await repo.get("discord", "G2", "timezone") == "America/New_York"


async def test_each_change_is_audited_and_a_no_op_reset_is_not(database: Database) -> None:
    db = database
    repo = ForumSettingsRepo(db)
    await repo.set(MOD, "G1", "moderators-channel", "123")
    await repo.set(OTHER, "G1", "moderators-channel", "456")
    await repo.reset(MOD, "G1", "moderators-channel")
    await repo.reset(MOD, "G1", "moderators-channel")
    entries = list(reversed(await AuditLog(db).recent("discord", "G1")))
    assert [(e.actor_id, e.action, e.target, e.detail) for e in entries] == [
        ("m1", "settings set", "moderators-channel", "(default) -> 123"),
        ("m2", "settings set", "moderators-channel", "123 -> 456"),
        ("m1", "settings reset", "moderators-channel", "456 -> (default)"),
    ]


async def test_a_change_whose_audit_fails_is_not_kept(tmp_path: Path) -> None:
    """One transaction: if the audit row cannot be written, the value is not changed."""
    db = await SqliteDatabase.open(tmp_path / "bot.sqlite3")
    try:
        repo = ForumSettingsRepo(db)
        await repo.set(MOD, "G1", "timezone", "Europe/Paris")
        await db.execute("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no'); END")
        with pytest.raises(sqlite3.IntegrityError):
            await repo.set(OTHER, "G1", "timezone", "Europe/Dublin")
        with pytest.raises(sqlite3.IntegrityError):
            await repo.reset(OTHER, "G1", "timezone")
        assert await repo.get("discord", "G1", "timezone") == "Europe/Paris"
    finally:
        await db.close()


async def test_values_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await SqliteDatabase.open(path)
    try:
        await ForumSettingsRepo(db).set(MOD, "G1", "moderator-role", "987")
    finally:
        await db.close()
    db = await SqliteDatabase.open(path)
    try:
        assert await ForumSettingsRepo(db).get("discord", "G1", "moderator-role") == "987"
    finally:
        await db.close()
