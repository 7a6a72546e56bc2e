"""bot/forum_settings.py: effective values (the forum's, else the config's), the per-forum
cache, and a change made by another instance sharing the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse
from bot.forum_settings import MODERATOR_ROLE, TIMEZONE, ForumSettings, core_settings
from bot.model import Actor
from storage.db import Database

MOD = Actor("discord", "m1", "Mod Maya", is_moderator=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(db: Database, clock: Clock, config: dict[str, Any] | None = None) -> ForumSettings:
    fs = ForumSettings(db, ttl=60.0, clock=clock)
    for d in core_settings(parse(config or {}, environ={})):
        fs.define(d)
    return fs


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        yield database
    finally:
        await database.close()


async def test_the_forums_value_else_the_configs(db: Database) -> None:
    fs = settings(db, Clock(), {"bot": {"timezone": "Europe/Dublin"}})
    assert (await fs.effective("discord", "G1", TIMEZONE)).source == "default"
    assert await fs.value("discord", "G1", TIMEZONE) == "Europe/Dublin"
    await fs.set(MOD, "G1", TIMEZONE, "Asia/Tokyo")
    mine = await fs.effective("discord", "G1", TIMEZONE)
    assert (mine.value, mine.source) == ("Asia/Tokyo", "forum")
    assert await fs.tz("discord", "G1", ZoneInfo("UTC")) == ZoneInfo("Asia/Tokyo")
    assert await fs.tz("discord", "G2", ZoneInfo("UTC")) == ZoneInfo("UTC")  # no value: the caller's
    assert await fs.value("discord", "G1", "no-such-key") is None
    assert [d.key for d in fs.definitions("console")] == [TIMEZONE]  # no roles on the console
    assert {d.key for d in fs.definitions("slack")} == {MODERATOR_ROLE, TIMEZONE}


async def test_reads_are_cached_and_a_change_here_is_seen_at_once(db: Database, monkeypatch: Any) -> None:
    fs = settings(db, Clock())
    reads = 0
    real_all = fs.repo.all

    async def counting(platform: str, scope_id: str) -> Any:
        nonlocal reads
        reads += 1
        return await real_all(platform, scope_id)

    monkeypatch.setattr(fs.repo, "all", counting)
    for _ in range(5):
        await fs.value("discord", "G1", TIMEZONE)
    assert reads == 1
    await fs.set(MOD, "G1", TIMEZONE, "Europe/Paris")
    assert await fs.value("discord", "G1", TIMEZONE) == "Europe/Paris"
    await fs.reset(MOD, "G1", TIMEZONE)
    assert await fs.value("discord", "G1", TIMEZONE) == "Europe/London"
    assert reads == 3


async def test_another_instances_change_is_seen_after_the_cache_expires(db: Database) -> None:
    clock = Clock()
    here, there = settings(db, clock), settings(db, clock)
    assert await here.value("discord", "G1", TIMEZONE) == "Europe/London"
    await there.set(MOD, "G1", TIMEZONE, "Europe/Paris")
    assert await here.value("discord", "G1", TIMEZONE) == "Europe/London"  # cached
    clock.now += 61
    assert await here.value("discord", "G1", TIMEZONE) == "Europe/Paris"


async def test_an_unknown_key_is_never_stored(db: Database) -> None:
    fs = settings(db, Clock())
    with pytest.raises(KeyError):
        await fs.set(MOD, "G1", "colour", "blue")
    assert await fs.repo.all("discord", "G1") == {}
