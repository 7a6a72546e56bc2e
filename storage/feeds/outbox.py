"""The outbox: deliveries waiting to be posted, and what became of each.

Rows are written by Items.ingest (posts and updates, with their items) and by
Subscriptions.pause (notices). A delivery is marked in flight before the platform is
called and becomes `sent` only after the platform confirmed the post (docs/feeds.md,
"Sending"), so a crash can leave a delivery unsure but never lost or doubled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from storage.faults import fault_point
from storage.feeds.items import drop_delivered_text
from storage.feeds.records import Delivery, from_iso, iso
from storage.feeds.roundups import settle_members
from storage.handle import Database, Tx


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
            "SELECT message_id FROM feed_deliveries WHERE kind = 'post' AND status = 'sent' AND post_key = ?",
            (d.post_key,),
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
        adapter connects, so each is settled while Discord still recognises its nonce. A
        delivery still claimed by a live instance (issue 15) is that instance's send in
        progress, not one cut off: it is left alone."""
        where = "status = 'pending' AND sending_at IS NOT NULL AND (claimed_by IS NULL OR claim_until <= ?)"
        where += " AND platform = ?" if platform else ""
        return await self.db.execute(
            f"UPDATE feed_deliveries SET next_attempt_at = ? WHERE {where}",
            (iso(now), iso(now), *([platform] if platform else [])),
        )

    async def clear_sending(self, delivery_id: int) -> None:
        """The platform was never called after all (mark_sending was premature)."""
        await self.db.execute(
            "UPDATE feed_deliveries SET sending_at = NULL, claimed_by = NULL, claim_until = NULL WHERE id = ?",
            (delivery_id,),
        )

    async def _settled(self, tx: Tx, delivery_id: int) -> None:
        """After a delivery is sent or failed for good: its item's text goes once nothing of
        it is pending (items.py), and the nonce and retry time are no longer needed."""
        row = await tx.fetchone("SELECT item_id FROM feed_deliveries WHERE id = ?", (delivery_id,))
        if row is not None and row["item_id"] is not None:
            await drop_delivered_text(tx, [int(row["item_id"])])

    async def mark_sent(self, delivery_id: int, message_id: str | None, now: datetime) -> None:
        """The platform confirmed it (`now` is when; a sent row keeps no times). One trip
        where the engine allows it (storage/thread_tx.py): `write` awaits only statements."""

        async def write(tx: Tx) -> None:
            await tx.execute(
                "UPDATE feed_subscriptions SET posts_sent = posts_sent + 1 WHERE id ="
                " (SELECT subscription_id FROM feed_deliveries WHERE id = ? AND kind = 'post')",
                (delivery_id,),
            )
            await tx.execute(
                # Only what dedup and edits need stays (migration 0006): post_key still names
                # the channel and story, message_id is what an update edits.
                "UPDATE feed_deliveries SET status = 'sent', message_id = ?, attempts = attempts + 1,"
                " last_error = NULL, sending_at = NULL, nonce = NULL, next_attempt_at = NULL, subscription_id = NULL,"
                " claimed_by = NULL, claim_until = NULL,"
                " platform = NULL, scope_id = NULL, channel_id = NULL, created_at = NULL, body = NULL, ping_role = NULL"
                " WHERE id = ?",
                (message_id, delivery_id),
            )
            await self._settled(tx, delivery_id)
            await settle_members(tx, delivery_id, "sent")  # a round-up's items (roundups.py)
            fault_point("commit")  # the crash tests stop here: recorded, not yet committed

        await self.db.run_transaction(write)

    async def mark_retry(self, delivery_id: int, error: str, next_at: datetime) -> None:
        await self.db.execute(
            "UPDATE feed_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " claimed_by = NULL, claim_until = NULL WHERE id = ?",
            (error[:300], iso(next_at), delivery_id),
        )

    async def mark_failed(self, delivery_id: int, error: str) -> None:
        async def write(tx: Tx) -> None:
            await tx.execute(
                "UPDATE feed_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                " sending_at = NULL, nonce = NULL, next_attempt_at = NULL, claimed_by = NULL, claim_until = NULL"
                " WHERE id = ?",
                (error[:300], delivery_id),
            )
            await self._settled(tx, delivery_id)
            await settle_members(tx, delivery_id, "failed", error)

        await self.db.run_transaction(write)

    # -- counts for !feeds status --------------------------------------------------------

    async def subscription_counts(self, sub_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        """Per subscription: posts waiting and failed (read through feed_deliveries_subscription,
        on the read-only connection). Posts sent are counted on the subscription (posts_sent)."""
        ids = sorted(set(sub_ids))
        out: dict[int, dict[str, int]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = await self.db.reader.fetchall(
                "SELECT subscription_id, status, COUNT(*) AS n FROM feed_deliveries"
                f" WHERE subscription_id IN ({','.join('?' * len(chunk))}) AND subscription_id IS NOT NULL"
                " AND status IN ('pending', 'failed')"
                " AND kind = 'post' GROUP BY subscription_id, status",
                chunk,
            )
            for r in rows:
                out.setdefault(r["subscription_id"], {})[r["status"]] = r["n"]
        return out
