"""What the feeds carried: stored items, and `ingest`, the outbox write.

`ingest` records one parsed fetch in a single transaction: new and changed items, one
delivery row per subscribed channel (the outbox, see outbox.py), and the feed's new state.
It runs in steps, each its own function: match the fetched items against the stored ones
(`match_items`, pure), write the item rows, plan the deliveries, then write them and the
feed's state. The steps share the one transaction, so a crash leaves all of it or none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from storage.db import Database, Tx
from storage.feeds.records import Accepts, IngestReport, ItemLike, StoredItem, Subscription, iso, new_nonce

# What a stored item's row needs from a fetch: nothing, only its new raw hash (the bytes
# changed but not the rendered text), or its new text (an update for channels already told).
Edit = Literal["none", "hash", "text"]

# (index in the fetched document, the item): the index breaks date ties, see _newest.
Indexed = tuple[int, ItemLike]


@dataclass(frozen=True)
class StoredMatch:
    """A fetched item that is already stored, and what its row needs."""

    row_id: int
    story_key: str  # the stored row's: updates go where that story was posted
    item: ItemLike
    rename: bool  # same story under a new item key: the row follows the new key
    edit: Edit


@dataclass
class Match:
    """A fetch compared with what is stored (no I/O: `match_items` builds it)."""

    present: list[Indexed] = field(default_factory=list)  # every fetched item once
    new: list[Indexed] = field(default_factory=list)  # not stored yet
    stored: list[StoredMatch] = field(default_factory=list)  # stored rows to write, in feed order

    @property
    def changed(self) -> list[tuple[int, str]]:
        """(item id, story key) of each stored item whose text changed."""
        return [(m.row_id, m.story_key) for m in self.stored if m.edit == "text"]


def _edit(row: sqlite3.Row, item: ItemLike) -> Edit:
    # An item not re-rendered (summary None: its raw text was unchanged) has nothing to compare.
    if item.raw_hash == row["raw_hash"] or item.summary is None or item.content_hash is None:
        return "none"
    if item.content_hash == row["content_hash"]:
        return "hash"
    return "text"


def match_items(stored: Sequence[sqlite3.Row], items: Sequence[ItemLike]) -> Match:
    """Which fetched items are new, which are stored (by item key, else by story key), and
    what each stored row needs. A key seen twice in one document counts once."""
    by_key = {r["item_key"]: r for r in stored}
    by_story = {r["story_key"]: r for r in stored}
    match = Match()
    seen_keys: set[str] = set()
    for index, item in enumerate(items):
        if item.item_key in seen_keys or item.story_key in seen_keys:
            continue
        seen_keys.update((item.item_key, item.story_key))
        row = by_key.get(item.item_key) or by_story.get(item.story_key)
        match.present.append((index, item))
        if row is None:
            match.new.append((index, item))
            continue
        # Same story, new GUID (some feeds mint one per fetch): follow it, post nothing.
        rename = row["item_key"] != item.item_key and item.item_key not in by_key
        edit = _edit(row, item)
        if rename or edit != "none":
            match.stored.append(StoredMatch(int(row["id"]), row["story_key"], item, rename, edit))
    return match


def _newest(p: Indexed) -> tuple[str, int]:
    # Sort key, oldest to newest: by date when known; feeds list newest first, so a later
    # place in the document is older when dates tie.
    return (p[1].published or "", -p[0])


def _delivery_row(sub: Subscription, item_id: int, story: str, kind: str, stamp: str) -> tuple[object, ...]:
    role = sub.mention_role if kind == "post" else None
    return (sub.id, item_id, sub.platform, sub.scope_id, sub.channel_id, story, kind, role, stamp, new_nonce(), stamp)


# -- write the items -----------------------------------------------------------------------


async def _write_items(tx: Tx, feed_id: int, match: Match, stamp: str) -> dict[str, int]:
    """Update stored rows (in feed order, as matched) and insert new ones; returns every
    stored item's id by item key, as it is now."""
    for m in match.stored:
        it = m.item
        if m.rename:
            await tx.execute("UPDATE feed_items SET item_key = ? WHERE id = ?", (it.item_key, m.row_id))
        if m.edit == "hash":
            await tx.execute("UPDATE feed_items SET raw_hash = ? WHERE id = ?", (it.raw_hash, m.row_id))
        elif m.edit == "text":
            await tx.execute(
                "UPDATE feed_items SET title = ?, summary = ?, link = COALESCE(?, link), raw_hash = ?,"
                " content_hash = ?, updated_at = ? WHERE id = ?",
                (it.title, it.summary, it.link, it.raw_hash, it.content_hash, stamp, m.row_id),
            )
    if match.new:
        await tx.executemany(
            "INSERT INTO feed_items(feed_id, item_key, story_key, raw_hash, content_hash, title, link,"
            " summary, published, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    feed_id,
                    it.item_key,
                    it.story_key,
                    it.raw_hash,
                    it.content_hash or "",
                    it.title,
                    it.link,
                    it.summary or "",
                    it.published,
                    stamp,
                )
                for _, it in match.new
            ],
        )
    rows = await tx.fetchall("SELECT id, item_key FROM feed_items WHERE feed_id = ?", (feed_id,))
    return {r["item_key"]: int(r["id"]) for r in rows}


# -- plan the deliveries (after the item writes: stored text and keys are read as they now are)


async def _filter_stored(
    tx: Tx, feed_id: int, present: list[Indexed], sub: Subscription, accepts: Accepts
) -> list[Indexed]:
    rows = await tx.fetchall("SELECT item_key, title, summary FROM feed_items WHERE feed_id = ?", (feed_id,))
    stored = {r["item_key"]: (r["title"], r["summary"]) for r in rows}
    out = []
    for i, it in present:
        title, summary = (it.title, it.summary) if it.summary is not None else stored.get(it.item_key, (it.title, ""))
        if accepts(sub, title, summary or ""):
            out.append((i, it))
    return out


async def _first_sight(
    tx: Tx, feed_id: int, present: list[Indexed], sub: Subscription, accepts: Accepts, report: IngestReport
) -> list[Indexed]:
    """A channel seeing the feed for the first time: the newest `latest` matching items, oldest first."""
    if any(it.summary is None for _, it in present):
        # Unchanged items were not re-rendered: filter them on stored text.
        matching = await _filter_stored(tx, feed_id, present, sub, accepts)
    else:
        matching = [(i, it) for i, it in present if accepts(sub, it.title, it.summary or "")]
    report.would_post += len(matching)
    chosen = sorted(matching, key=_newest, reverse=True)[: sub.latest]
    return sorted(chosen, key=_newest)


async def _update_rows(
    tx: Tx, subs: list[Subscription], changed: list[tuple[int, str]], stamp: str
) -> list[tuple[object, ...]]:
    """An update for every channel where this item's post already went out. A post still
    pending needs nothing: it is rendered from the item's latest text when sent."""
    rows: list[tuple[object, ...]] = []
    for item_id, story in changed:
        for sub in subs:
            posted = await tx.fetchone(
                "SELECT status FROM feed_deliveries WHERE kind = 'post' AND platform = ? AND scope_id = ?"
                " AND channel_id = ? AND story_key = ? AND item_id = ?",
                (sub.platform, sub.scope_id, sub.channel_id, story, item_id),
            )
            if posted is not None and posted["status"] == "sent":
                rows.append(_delivery_row(sub, item_id, story, "update", stamp))
    return rows


async def _plan_deliveries(
    tx: Tx, feed_id: int, match: Match, ids: dict[str, int], accepts: Accepts, report: IngestReport, stamp: str
) -> list[tuple[object, ...]]:
    """The outbox rows for this fetch: posts per channel, then updates of posts already sent."""
    rows = await tx.fetchall("SELECT * FROM feed_subscriptions WHERE feed_id = ?", (feed_id,))
    subs = [Subscription.from_row(r) for r in rows]
    out: list[tuple[object, ...]] = []
    for sub in subs:
        if sub.paused:
            continue  # a paused channel misses what arrives meanwhile, by design
        if sub.resuming:
            report.resumed.append(sub.id)  # what is there now came during the pause
            continue
        if sub.primed:
            to_post = sorted([(i, it) for i, it in match.new if accepts(sub, it.title, it.summary or "")], key=_newest)
        else:
            report.primed.append(sub.id)
            to_post = await _first_sight(tx, feed_id, match.present, sub, accepts, report)
        out += [_delivery_row(sub, ids[it.item_key], it.story_key, "post", stamp) for _, it in to_post]
    if changed := match.changed:
        out += await _update_rows(tx, subs, changed, stamp)
    return out


# -- write the deliveries ------------------------------------------------------------------


async def _write_deliveries(tx: Tx, rows: list[tuple[object, ...]]) -> int:
    """Insert the planned rows; returns how many were new (the unique index allows one post
    per channel and story, whichever feed carried it, so the rest are ignored)."""
    if not rows:
        return 0
    before = await tx.fetchone("SELECT total_changes()")
    await tx.executemany(
        "INSERT OR IGNORE INTO feed_deliveries(subscription_id, item_id, platform, scope_id, channel_id,"
        " story_key, kind, ping_role, next_attempt_at, nonce, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    after = await tx.fetchone("SELECT total_changes()")
    return int(after[0] - before[0]) if before and after else len(rows)


class Items:
    """FeedStore's items and the ingest (a mixin: FeedStore sets `db`)."""

    db: Database

    async def ingest(
        self,
        feed_id: int,
        feed_title: str,
        items: Sequence[ItemLike],
        accepts: Accepts,
        now: datetime,
        next_at: datetime,
        *,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
    ) -> IngestReport:
        """Record items and queue deliveries, all in one transaction with the feed's new state."""
        report = IngestReport(seen=len(items))
        stamp = iso(now)
        async with self.db.transaction() as tx:
            stored = await tx.fetchall(
                "SELECT id, item_key, story_key, raw_hash, content_hash FROM feed_items WHERE feed_id = ?", (feed_id,)
            )
            match = match_items(stored, items)
            ids = await _write_items(tx, feed_id, match, stamp)
            report.new = len(match.new)
            report.changed = len(match.changed)
            rows = await _plan_deliveries(tx, feed_id, match, ids, accepts, report, stamp)
            report.queued = await _write_deliveries(tx, rows)
            if report.primed or report.resumed:
                seen = [*report.primed, *report.resumed]
                await tx.execute(
                    f"UPDATE feed_subscriptions SET primed = 1 WHERE id IN ({','.join('?' * len(seen))})", seen
                )
            await tx.execute(
                "UPDATE feeds SET title = ?, etag = ?, last_modified = ?, body_hash = ?, next_fetch_at = ?,"
                " last_fetch_at = ?, last_success_at = ?, last_error = NULL, failing_since = NULL,"
                " consecutive_failures = 0 WHERE id = ?",
                (feed_title, etag, last_modified, body_hash, iso(next_at), stamp, stamp, feed_id),
            )
        return report

    async def known_hashes(self, feed_id: int) -> dict[str, str]:
        rows = await self.db.fetchall("SELECT item_key, raw_hash FROM feed_items WHERE feed_id = ?", (feed_id,))
        return {r[0]: r[1] for r in rows}

    async def item(self, item_id: int) -> StoredItem | None:
        row = await self.db.fetchone(
            "SELECT i.id, i.feed_id, i.title, i.link, i.summary, i.published, i.updated_at,"
            " COALESCE(f.name, f.title, f.url) AS feed_name FROM feed_items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = ?",
            (item_id,),
        )
        return StoredItem(**dict(row)) if row else None

    async def recent_items(self, feed_id: int, limit: int) -> list[StoredItem]:
        rows = await self.db.fetchall(
            "SELECT i.id, i.feed_id, i.title, i.link, i.summary, i.published, i.updated_at,"
            " COALESCE(f.name, f.title, f.url) AS feed_name FROM feed_items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.feed_id = ? ORDER BY COALESCE(i.published, i.first_seen_at) DESC, i.id LIMIT ?",
            (feed_id, limit),
        )
        return [StoredItem(**dict(r)) for r in rows]
