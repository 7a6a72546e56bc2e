"""Messages the bot must remove (a parent's public `!report`, which may hold a phone number),
recorded before the delete is tried so that a crash in between cannot leave them up: the next
time the platform's adapter connects, the delete is tried again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.handle import Database

MAX_ATTEMPTS = 5  # after this many failed tries (not a permission refusal) the record is dropped


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PendingDelete:
    platform: str
    scope_id: str
    channel_id: str
    message_id: str
    attempts: int


class PendingDeletes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, platform: str, scope_id: str, channel_id: str, message_id: str, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO pending_deletes(platform, scope_id, channel_id, message_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (platform, scope_id, channel_id, message_id, _iso(now)),
        )

    async def done(self, platform: str, channel_id: str, message_id: str) -> None:
        """Deleted, or it never can be (no permission, already gone): forget it."""
        await self.db.execute(
            "DELETE FROM pending_deletes WHERE platform = ? AND channel_id = ? AND message_id = ?",
            (platform, channel_id, message_id),
        )

    async def failed(self, platform: str, channel_id: str, message_id: str, error: str) -> None:
        """A passing failure: try again next time, up to MAX_ATTEMPTS."""
        await self.db.execute(
            "UPDATE pending_deletes SET attempts = attempts + 1, last_error = ?"
            " WHERE platform = ? AND channel_id = ? AND message_id = ?",
            (error[:200], platform, channel_id, message_id),
        )
        await self.db.execute("DELETE FROM pending_deletes WHERE attempts >= ?", (MAX_ATTEMPTS,))

    async def for_platform(self, platform: str) -> list[PendingDelete]:
        rows = await self.db.fetchall(
            "SELECT platform, scope_id, channel_id, message_id, attempts FROM pending_deletes"
            " WHERE platform = ? ORDER BY id",
            (platform,),
        )
        return [PendingDelete(**dict(r)) for r in rows]
