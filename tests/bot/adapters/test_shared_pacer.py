"""The rate budget shared through the database (issue 15): several instances on one bot token
stay under the platform's limit together. On a real SQLite file; "instances" are pacers with
their own state sharing the database row, as separate processes would with PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.adapters.pacing import RatePacer
from bot.adapters.shared_pacer import SHARED_SAFETY as SAFETY
from bot.adapters.shared_pacer import SharedRatePacer, make_pacer
from bot.messenger import NotSent
from bot.model import Card, ChannelRef, Reply
from storage.db import Database
from storage.rate_budget import RateBudget, budget_key
from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID

TOKEN = "MTIz.secret.token"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


async def test_instances_sharing_a_budget_are_spaced_at_the_rate_together(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    clock = FakeTime()
    try:
        key = budget_key("discord", TOKEN)
        pacers = [SharedRatePacer(RateBudget(db, key), 50, clock=clock, sleep=clock.sleep) for _ in range(3)]
        start = clock.now
        times = []
        for i in range(30):
            await pacers[i % 3].acquire()
            times.append(clock.now - start)
        gap = round(1e6 / (50 * SAFETY)) / 1e6  # whole microseconds
        assert gap == pytest.approx(1 / (50 * SAFETY), abs=1e-6)
        assert times == pytest.approx([i * gap for i in range(30)], abs=1e-5)
        # In any window of 1 s / SAFETY, no more calls than the platform allows in a second.
        assert max(sum(1 for t in times if s <= t < s + 1 / SAFETY) for s in times) <= 50
        # A 429 met by one instance holds all of them.
        pacers[0].hold(2.0)
        await asyncio.sleep(0)  # the shared hold is written in the background
        await asyncio.gather(*pacers[0]._holds)
        before = clock.now
        await pacers[1].acquire()
        assert clock.now - before == pytest.approx(2.0, abs=1e-3)
        # Keyed by a hash: the token is not in the database.
        rows = await db.fetchall("SELECT key FROM rate_budget")
        assert [r[0] for r in rows] == [key] and TOKEN not in key
    finally:
        await db.close()


async def test_a_short_real_run_keeps_the_rate(tmp_path: Path) -> None:
    """Two instances at 100/s for 40 calls in all: about 0.41 s, never faster than the rate."""
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        key = budget_key("discord", TOKEN)
        pacers = [SharedRatePacer(RateBudget(db, key), 100) for _ in range(2)]
        stamps: list[float] = []

        async def calls(p: SharedRatePacer) -> None:
            for _ in range(20):
                await p.acquire()
                stamps.append(time.monotonic())

        started = time.monotonic()
        await asyncio.gather(*(calls(p) for p in pacers))
        took = time.monotonic() - started
        assert 39 / (100 * SAFETY) - 0.01 <= took < 1.5
        stamps.sort()
        # any 20 consecutive calls span at least 19 intervals (less a little scheduling jitter)
        assert min(b - a for a, b in zip(stamps, stamps[19:], strict=False)) >= 19 / (100 * SAFETY) - 0.03
    finally:
        await db.close()


async def test_a_stopping_bot_gives_up_a_call_that_would_wait(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    clock = FakeTime()
    try:
        stopping = [False]
        p = SharedRatePacer(
            RateBudget(db, budget_key("slack", TOKEN)), 1, clock=clock, sleep=clock.sleep, stopping=lambda: stopping[0]
        )
        await p.acquire()
        stopping[0] = True
        await p.acquire(may_give_up=False)  # the rest of a post already begun still goes
        with pytest.raises(NotSent):
            await p.acquire()
    finally:
        await db.close()


async def test_the_in_memory_pacer_stays_the_default(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        assert isinstance(make_pacer(db, "discord", TOKEN, 50, shared=False, stopping=lambda: False), RatePacer)
        assert isinstance(make_pacer(db, "discord", TOKEN, 50, shared=True, stopping=lambda: False), SharedRatePacer)
        assert make_pacer(db, "discord", TOKEN, 0, shared=True, stopping=lambda: False) is None
    finally:
        await db.close()


async def test_the_discord_adapter_posts_through_the_shared_budget_when_configured(tmp_path: Path) -> None:
    async with discord_env(tmp_path, discord={"shared_rate_budget": True, "requests_per_second": 20}) as env:
        assert isinstance(env.adapter.pacer, SharedRatePacer)
        news = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))
        reply = Reply(card=Card(title="New SEND guidance", body="Summary.", url="https://example.org/item"))
        started = time.monotonic()
        for n in range(5):
            await env.adapter.post(news, reply, nonce=f"shared-{n}")
        took = time.monotonic() - started
        assert len(env.fake.channel_messages(CHANNEL_ID)) == 5
        assert took >= 4 / (20 * SAFETY) - 0.01  # five slots at 19/s: at least four intervals
        db = env.harness.core.db
        [row] = await db.fetchall("SELECT key, next_at FROM rate_budget")
        assert row["key"] == budget_key("discord", "test-token") and "test-token" not in row["key"]
