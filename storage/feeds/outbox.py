"""The outbox: deliveries waiting to be posted, and what became of each.

Rows are written by Items.ingest (posts and updates, with their items) and by
Subscriptions.pause (notices). A delivery is marked in flight before the platform is
called and becomes `sent` only after the platform confirmed the post (docs/feeds.md,
"Sending"), so a crash can leave a delivery unsure but never lost or doubled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from storage.db import Database
from storage.faults import fault_point
from storage.feeds.records import Delivery, from_iso, iso


class Outbox:
    """FeedStore's deliveries (a mixin: FeedStore sets `db`)."""

    db: Database

    async def due_deliveries(self, now: datetime, platforms: Iterable[str], limit: int = 200) -> list[Delivery]:
        plats = sorted(set(platforms))
        if not plats:
            return []
        # A paused channel's deliveries wait for it to be resumed. Unsure ones (an earlier try
        # may have been posted) go first: Discord recognises its nonce only for a few minutes.
        rows = await self.db.fetchall(
            "SELECT d.* FROM feed_deliveries d LEFT JOIN feed_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND COALESCE(s.paused, 0) = 0"
            f" AND d.platform IN ({','.join('?' * len(plats))})"
            " ORDER BY d.sending_at IS NULL, d.id LIMIT ?",
            (iso(now), *plats, limit),
        )
        return [Delivery.from_row(r) for r in rows]

    async def next_delivery_time(self, platforms: Iterable[str]) -> datetime | None:
        plats = sorted(set(platforms))
        if not plats:
            return None
        row = await self.db.fetchone(
            "SELECT MIN(d.next_attempt_at) FROM feed_deliveries d"
            " LEFT JOIN feed_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = 'pending' AND COALESCE(s.paused, 0) = 0"
            f" AND d.platform IN ({','.join('?' * len(plats))})",
            plats,
        )
        return from_iso(row[0]) if row and row[0] else None

    async def original_message(self, d: Delivery) -> str | None:
        row = await self.db.fetchone(
            "SELECT message_id FROM feed_deliveries WHERE kind = 'post' AND status = 'sent' AND platform = ?"
            " AND scope_id = ? AND channel_id = ? AND story_key = ?",
            (d.platform, d.scope_id, d.channel_id, d.story_key),
        )
        return row["message_id"] if row else None

    # -- a delivery's outcome ------------------------------------------------------------

    async def mark_sending(self, delivery_id: int, now: datetime) -> None:
        """Recorded (committed) before the platform is called: see migration 0004. Cleared only
        when the outcome is known (sent, or failed for good); a retry keeps it, so the next try
        is made as unsure (Slack checks its history first), even after a restart."""
        await self.db.execute("UPDATE feed_deliveries SET sending_at = ? WHERE id = ?", (iso(now), delivery_id))

    async def settle_in_flight(self, now: datetime, platform: str | None = None) -> int:
        """Make every unsure delivery (of `platform`, or all) due now: at start, and when an
        adapter connects, so each is settled while Discord still recognises its nonce."""
        where = "status = 'pending' AND sending_at IS NOT NULL" + (" AND platform = ?" if platform else "")
        return await self.db.execute(
            f"UPDATE feed_deliveries SET next_attempt_at = ? WHERE {where}",
            (iso(now), *([platform] if platform else [])),
        )

    async def clear_sending(self, delivery_id: int) -> None:
        """The platform was never called after all (mark_sending was premature)."""
        await self.db.execute("UPDATE feed_deliveries SET sending_at = NULL WHERE id = ?", (delivery_id,))

    async def mark_sent(self, delivery_id: int, message_id: str | None, now: datetime) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE feed_deliveries SET status = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1,"
                " last_error = NULL, sending_at = NULL WHERE id = ?",
                (message_id, iso(now), delivery_id),
            )
            fault_point("commit")  # the crash tests stop here: recorded, not yet committed

    async def mark_retry(self, delivery_id: int, error: str, next_at: datetime) -> None:
        await self.db.execute(
            "UPDATE feed_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error[:300], iso(next_at), delivery_id),
        )

    async def mark_failed(self, delivery_id: int, error: str) -> None:
        await self.db.execute(
            "UPDATE feed_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?,"
            " sending_at = NULL WHERE id = ?",
            (error[:300], delivery_id),
        )

    # -- counts for !feeds status --------------------------------------------------------

    async def delivery_counts(self) -> dict[int, dict[str, int]]:
        """Per feed: posts sent, deliveries pending and failed."""
        rows = await self.db.fetchall(
            "SELECT i.feed_id AS feed_id, d.status AS status, COUNT(*) AS n FROM feed_deliveries d"
            " JOIN feed_items i ON i.id = d.item_id WHERE d.kind = 'post' GROUP BY i.feed_id, d.status"
        )
        out: dict[int, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["feed_id"], {})[r["status"]] = r["n"]
        return out

    async def subscription_counts(self) -> dict[int, dict[str, int]]:
        """Per subscription: posts sent, pending and failed."""
        rows = await self.db.fetchall(
            "SELECT subscription_id, status, COUNT(*) AS n FROM feed_deliveries"
            " WHERE kind = 'post' AND subscription_id IS NOT NULL GROUP BY subscription_id, status"
        )
        out: dict[int, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["subscription_id"], {})[r["status"]] = r["n"]
        return out
