"""Held posts gathered into one message: a digest, or what waited through quiet hours.

A post held back (quiet hours, a digest) is an ordinary `post` row in the outbox with
`held` set and `next_attempt_at` at its release time (migration 0009). When it is due,
`gather` turns a subscription's due held posts into one `roundup` delivery in a single
transaction: the round-up row is written, and each member points at it (`roundup_id`) and
leaves the due queue (`next_attempt_at` NULL). The round-up is sent like any delivery (in
flight, nonce, retries); when it is marked sent or failed, `settle_members` marks its
members the same in that same transaction. So a crash at any moment leaves each item
either waiting (in a round-up still to be sent) or sent once: never lost, never doubled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.feeds.items import drop_delivered_text
from storage.feeds.records import StoredItem, iso, new_nonce
from storage.handle import Database, Tx

# Items listed in one round-up at most; more due at once make further round-ups.
ROUNDUP_MAX = 12


@dataclass(frozen=True)
class DueHeld:
    """A subscription's held posts that are due: how many, and why they were held."""

    subscription_id: int
    held: str  # "quiet" or "digest"
    count: int


async def settle_members(tx: Tx, roundup_id: int, status: str, error: str | None = None) -> None:
    """Mark a round-up's members as it was marked (sent or failed), in the caller's
    transaction. A member keeps, like any sent post, what dedup needs (post_key, kind)."""
    members = await tx.fetchall(
        "SELECT id, item_id, subscription_id FROM feed_deliveries WHERE roundup_id = ? AND status = 'pending'",
        (roundup_id,),
    )
    if not members:
        return
    if status == "sent":
        subs: dict[int, int] = {}
        for m in members:
            if m["subscription_id"] is not None:
                subs[int(m["subscription_id"])] = subs.get(int(m["subscription_id"]), 0) + 1
        for sub_id, n in subs.items():
            await tx.execute("UPDATE feed_subscriptions SET posts_sent = posts_sent + ? WHERE id = ?", (n, sub_id))
        # No message id: an update of one of these items is posted anew ("Updated: ..."),
        # never edited into the round-up.
        await tx.execute(
            "UPDATE feed_deliveries SET status = 'sent', attempts = attempts + 1, last_error = NULL,"
            " sending_at = NULL, nonce = NULL, next_attempt_at = NULL, subscription_id = NULL, platform = NULL,"
            " scope_id = NULL, channel_id = NULL, created_at = NULL, body = NULL, ping_role = NULL"
            " WHERE roundup_id = ? AND status = 'pending'",
            (roundup_id,),
        )
    else:
        await tx.execute(
            "UPDATE feed_deliveries SET status = 'failed', last_error = ?, nonce = NULL, next_attempt_at = NULL"
            " WHERE roundup_id = ? AND status = 'pending'",
            ((error or "the round-up failed")[:300], roundup_id),
        )
    await drop_delivered_text(tx, [int(m["item_id"]) for m in members if m["item_id"] is not None])


class Roundups:
    """FeedStore's round-ups (a mixin: FeedStore sets `db`)."""

    db: Database

    async def due_held(self, now: datetime, platforms: Iterable[str]) -> list[DueHeld]:
        """Subscriptions with held posts due now, not yet gathered (feed_deliveries_held)."""
        plats = sorted(set(platforms))
        if not plats:
            return []
        rows = await self.db.fetchall(
            "SELECT subscription_id, held, COUNT(*) AS n FROM feed_deliveries"
            " WHERE held IS NOT NULL AND status = 'pending' AND roundup_id IS NULL AND kind = 'post'"
            " AND sending_at IS NULL AND next_attempt_at <= ?"
            # Read through feed_deliveries_held: only the held rows still pending.
            f" AND platform IN ({','.join('?' * len(plats))})"
            " GROUP BY subscription_id, held ORDER BY MIN(id)",
            (iso(now), *plats),
        )
        return [
            DueHeld(int(r["subscription_id"]), str(r["held"]), int(r["n"]))
            for r in rows
            if r["subscription_id"] is not None
        ]

    async def gather(self, subscription_id: int, held: str, now: datetime) -> list[int]:
        """Gather the subscription's due held posts into round-ups of up to ROUNDUP_MAX, oldest
        first, in one transaction. Returns the round-ups' delivery ids."""
        stamp = iso(now)
        made: list[int] = []
        async with self.db.transaction() as tx:
            while True:
                rows = await tx.fetchall(
                    "SELECT id, platform, scope_id, channel_id FROM feed_deliveries"
                    " WHERE subscription_id = ? AND held = ? AND status = 'pending' AND roundup_id IS NULL"
                    " AND kind = 'post' AND sending_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                    (subscription_id, held, stamp, ROUNDUP_MAX),
                )
                if not rows:
                    return made
                first = rows[0]
                cur = await tx.execute(
                    "INSERT INTO feed_deliveries(subscription_id, platform, scope_id, channel_id, kind, body,"
                    " next_attempt_at, nonce, created_at) VALUES (?, ?, ?, ?, 'roundup', ?, ?, ?, ?)",
                    (
                        subscription_id,
                        first["platform"],
                        first["scope_id"],
                        first["channel_id"],
                        held,
                        stamp,
                        new_nonce(),
                        stamp,
                    ),
                )
                roundup_id = int(cur.lastrowid or 0)
                await cur.close()
                ids = [int(r["id"]) for r in rows]
                await tx.execute(
                    # "AND roundup_id IS NULL": a row another instance gathered first stays
                    # in that round-up (the PostgreSQL port also locks the rows it reads).
                    f"UPDATE feed_deliveries SET roundup_id = ?, next_attempt_at = NULL"
                    f" WHERE id IN ({','.join('?' * len(ids))}) AND roundup_id IS NULL",
                    (roundup_id, *ids),
                )
                made.append(roundup_id)

    async def roundup_items(self, roundup_id: int) -> list[StoredItem]:
        """The items a round-up lists, oldest post first (their text is kept while pending)."""
        rows = await self.db.fetchall(
            "SELECT i.id, i.feed_id, COALESCE(t.title, '') AS title, t.link, COALESCE(t.summary, '') AS summary,"
            " t.published, t.updated_at, COALESCE(f.name, f.title, f.url) AS feed_name, t.image_url"
            " FROM feed_deliveries d JOIN feed_items i ON i.id = d.item_id JOIN feeds f ON f.id = i.feed_id"
            " LEFT JOIN feed_item_texts t ON t.item_id = i.id WHERE d.roundup_id = ? ORDER BY d.id",
            (roundup_id,),
        )
        return [StoredItem(**dict(r)) for r in rows]
