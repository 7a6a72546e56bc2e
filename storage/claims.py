"""Work that is claimed, not assumed (issue 15): deliveries and feed fetches held by one instance.

Several sendbot processes may share one PostgreSQL database. Each has an instance id
(`storage.leases.new_instance_id`); before it sends a delivery or fetches a feed it claims
the row for a lease (a time after which the claim lapses). A claim is one UPDATE that picks
the rows and marks them in the same statement, so two instances never get the same row:
PostgreSQL skips rows another transaction is claiming (`FOR UPDATE SKIP LOCKED`); SQLite
has one writer, so the statement is atomic as it is.

An instance killed mid-claim leaves its rows claimed until the lease passes; then any
instance takes them over. A delivery it had marked in flight (`sending_at`) comes back as
unsure, so the platform's nonce check settles it and nothing is posted twice. A live
instance renews its claims while a long fan-out runs (`renew_deliveries`), and a send
starts only while the claim is still its own (`begin_send`).

SQLite allows one instance per database (the flock in storage/db.py), so at start the
claims and leases a previous process left behind are simply released (`release_orphans`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from storage.feeds.records import Delivery, iso
from storage.handle import Database

# How long a claim holds without renewal. Renewed every third of it while work runs, so a
# live instance never loses a claim; a dead one's are taken over after at most this long.
CLAIM_LEASE = timedelta(seconds=60)
# A feed's fetch lease: a fetch (with its retries and parsing) ends well within it.
FETCH_LEASE = timedelta(minutes=5)
_CHUNK = 500  # ids per statement (well under every driver's limit on parameters)


def dialect(db: object) -> str:
    """ "sqlite" or "postgresql": the SQL that differs is chosen here, inside storage/."""
    return str(getattr(db, "dialect", "sqlite"))


def _skip_locked(db: object, table: str) -> str:
    # PostgreSQL: rows another instance is claiming right now are skipped, not waited for.
    return f" FOR UPDATE OF {table} SKIP LOCKED" if dialect(db) == "postgresql" else ""


def _free(prefix: str, by: str, until: str) -> str:
    """Unclaimed, lapsed, or already this instance's."""
    return f"({prefix}{by} IS NULL OR {prefix}{until} <= ? OR {prefix}{by} = ?)"


class Claims:
    """Claims on deliveries and feeds for one instance of the bot."""

    def __init__(self, db: Database, instance: str) -> None:
        self.db = db
        self.instance = instance

    # -- deliveries ----------------------------------------------------------------------

    async def claim_deliveries(
        self, now: datetime, platforms: Iterable[str], limit: int = 200, *, lease: timedelta = CLAIM_LEASE
    ) -> list[Delivery]:
        """Claim up to `limit` due deliveries (the same ones `Outbox.due_deliveries` lists,
        skipping those another live instance holds) and return them, unsure ones first."""
        plats = sorted(set(platforms))
        if not plats:
            return []
        now_s = iso(now)
        rows = await self.db.fetchall(
            "UPDATE feed_deliveries SET claimed_by = ?, claim_until = ? WHERE id IN ("
            " SELECT d.id FROM feed_deliveries d LEFT JOIN feed_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND COALESCE(s.paused, 0) = 0"
            f" AND d.platform IN ({','.join('?' * len(plats))})"
            f" AND {_free('d.', 'claimed_by', 'claim_until')}"
            f" ORDER BY d.sending_at IS NULL, d.id LIMIT ?{_skip_locked(self.db, 'd')})"
            " RETURNING *",
            (self.instance, iso(now + lease), now_s, *plats, now_s, self.instance, limit),
        )
        found = [Delivery.from_row(r) for r in rows]
        # RETURNING gives no order: unsure first (Discord knows a nonce only for minutes), then oldest.
        found.sort(key=lambda d: (not d.unsure, d.id))
        return found

    async def begin_send(self, delivery_id: int, now: datetime, *, lease: timedelta = CLAIM_LEASE) -> bool:
        """Mark a claimed delivery in flight (what `Outbox.mark_sending` records) and renew its
        claim, only while the claim is still this instance's. False: the claim lapsed and
        another instance took the delivery over, so this one must not send it."""
        changed = await self.db.execute(
            "UPDATE feed_deliveries SET sending_at = ?, claim_until = ?"
            " WHERE id = ? AND claimed_by = ? AND status = 'pending'",
            (iso(now), iso(now + lease), delivery_id, self.instance),
        )
        return changed > 0

    async def renew_deliveries(self, now: datetime, *, lease: timedelta = CLAIM_LEASE) -> int:
        """Extend every claim this instance holds (called while a fan-out runs)."""
        return await self.db.execute(
            "UPDATE feed_deliveries SET claim_until = ? WHERE claimed_by = ?",
            (iso(now + lease), self.instance),
        )

    async def release_deliveries(self) -> int:
        """Give back every delivery this instance still holds (the end of a fan-out, a stop):
        another instance, or this one's next run, may take them at once."""
        return await self.db.execute(
            "UPDATE feed_deliveries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ?",
            (self.instance,),
        )

    # -- feeds ---------------------------------------------------------------------------

    async def lease_feeds(
        self, feed_ids: Iterable[int], now: datetime, *, force: bool = False, lease: timedelta = FETCH_LEASE
    ) -> set[int]:
        """Take the fetch lease of each feed not leased by another live instance and, unless
        `force`, still due (another instance may have fetched it since it was listed).
        Returns the ids leased: only those are fetched here."""
        ids = sorted(set(feed_ids))
        got: set[int] = set()
        now_s = iso(now)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            rows = await self.db.fetchall(
                "UPDATE feeds SET lease_by = ?, lease_until = ? WHERE id IN ("
                f" SELECT id FROM feeds WHERE id IN ({','.join('?' * len(chunk))})"
                f" AND {_free('', 'lease_by', 'lease_until')}"
                f" AND (? OR next_fetch_at IS NULL OR next_fetch_at <= ?){_skip_locked(self.db, 'feeds')})"
                " RETURNING id",
                (self.instance, iso(now + lease), *chunk, now_s, self.instance, force, now_s),
            )
            got.update(int(r[0]) for r in rows)
        return got

    async def release_feeds(self) -> int:
        """Give back this instance's fetch leases (after a cycle): a fetched feed is no longer
        due, so the lease is not what keeps others off it any more."""
        return await self.db.execute(
            "UPDATE feeds SET lease_by = NULL, lease_until = NULL WHERE lease_by = ?", (self.instance,)
        )


async def release_orphans(db: Database) -> int:
    """SQLite only, in the process that holds the database's one-bot lock: every claim and
    lease in the file was left by an earlier process (killed, or stopped mid-run), so all
    are released at once rather than waiting out their leases. With PostgreSQL other
    instances may be alive: nothing is released, leases run out instead. Returns the rows."""
    if dialect(db) != "sqlite" or not getattr(db, "exclusive", False):
        return 0
    async with db.transaction() as tx:
        cur = await tx.execute(
            "UPDATE feed_deliveries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by IS NOT NULL"
        )
        n = cur.rowcount
        cur = await tx.execute("UPDATE feeds SET lease_by = NULL, lease_until = NULL WHERE lease_by IS NOT NULL")
        n += cur.rowcount
        cur = await tx.execute("DELETE FROM leases")
        n += cur.rowcount
    return int(n)
