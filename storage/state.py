"""`BotState`: what the bot remembers about itself between runs, as text under a key
(migration 0007). Today: the hash of the Discord commands last synced per server
(`bot/adapters/discord/commands.py`). Nothing personal is ever kept here."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.handle import Database


class BotState:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(self, key: str, value: str) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self.db.execute(
            "INSERT INTO bot_state(key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, now),
        )

    async def delete(self, key: str) -> None:
        await self.db.execute("DELETE FROM bot_state WHERE key = ?", (key,))
