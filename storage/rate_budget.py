"""A rate budget shared by every instance using one bot token (issue 15), kept in the database.

GCRA (virtual scheduling): the row holds the next free slot. Reserving a slot is one
statement that moves it on by one interval and returns where it was, so instances reserving
at the same moment get distinct, evenly spaced slots; each then waits for its own slot
(bot/adapters/shared_pacer.py). Times are microseconds since the epoch: the instances share
the wall clock, not an event loop. `key` is a hash of the token (`budget_key`), never the token.
"""

from __future__ import annotations

import hashlib

from storage.claims import dialect
from storage.handle import Database


def budget_key(platform: str, token: str) -> str:
    """The row's key: the platform and a SHA-256 of the token (the token is never stored)."""
    return f"{platform}:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _greatest(db: object) -> str:
    # SQLite's two-argument max() is PostgreSQL's GREATEST().
    return "GREATEST" if dialect(db) == "postgresql" else "MAX"


class RateBudget:
    def __init__(self, db: Database, key: str) -> None:
        self.db = db
        self.key = key

    async def reserve(self, now_us: int, interval_us: int) -> int:
        """Reserve the next slot at or after `now_us`; returns the slot's time (µs)."""
        row = await self.db.fetchone(
            "INSERT INTO rate_budget(key, next_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
            f" SET next_at = {_greatest(self.db)}(rate_budget.next_at, ?) + ? RETURNING next_at",
            (self.key, now_us + interval_us, now_us, interval_us),
        )
        assert row is not None
        return int(row[0]) - interval_us

    async def hold(self, until_us: int) -> None:
        """Nothing is reserved before `until_us` (the platform answered 429 with Retry-After)."""
        await self.db.execute(
            "INSERT INTO rate_budget(key, next_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
            f" SET next_at = {_greatest(self.db)}(rate_budget.next_at, ?)",
            (self.key, until_us, until_us),
        )

    async def next_at(self) -> int | None:
        row = await self.db.fetchone("SELECT next_at FROM rate_budget WHERE key = ?", (self.key,))
        return int(row[0]) if row else None
