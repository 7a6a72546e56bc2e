"""What the feeds carried: stored items, and `ingest`, the outbox write.

`ingest` records one parsed fetch in a single transaction: new and changed items, one
delivery row per subscribed channel (the outbox, see outbox.py), and the feed's new state.
It runs in steps, each its own function: read the stored rows of the fetched keys only,
match them (`match_items`, pure), write the item rows, plan the deliveries, write them and
the feed's state, keep the text of items a pending delivery will render, then tidy: note
which items left the feed and forget those gone for longer than the window. The steps share
the one transaction, so a crash leaves all of it or none.

What an item row keeps (migration 0006): its item and story keys as 48-bit integers
(from `hash64`), its raw and content hashes as 32-bit ones, and `gone_at`, when a fetch first no
longer listed it. Its text is in feed_item_texts only while a delivery of it is pending
(posts and updates are rendered from it when sent); an update rewrites it from the fetch
that changed it. So a changed item still edits its post (the sent post keeps its message
id), a date-only bump does nothing, and an item that comes back within the window is
recognised and not posted again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from storage.feeds.hashes import UNRENDERED, KnownHashes, _h, _h32
from storage.feeds.records import (
    Accepts,
    Hold,
    IngestReport,
    ItemLike,
    StoredItem,
    Subscription,
    TextNeeded,
    from_iso,
    iso,
    new_nonce,
    post_key,
)
from storage.handle import Database, Tx

# How long an item that left its feed is remembered: if it comes back within this, it is
# recognised (not posted again). Then it is forgotten with its deliveries.
FORGET_AFTER = timedelta(days=90)


# What a stored item's row needs from a fetch: nothing, only its new hashes (the bytes
# changed but not the rendered text, or its text rendered for the first time), or its new
# text (an update for channels already told).
Edit = Literal["none", "hash", "text"]

# (index in the fetched document, the item): the index breaks date ties, see _newest.
Indexed = tuple[int, ItemLike]


@dataclass(frozen=True)
class StoredMatch:
    """A fetched item that is already stored, and what its row needs."""

    row_id: int
    story_id: int  # the stored row's: updates go where that story was posted
    item: ItemLike
    rename: bool  # same story under a new item key: the row follows the new key
    edit: Edit


@dataclass
class Match:
    """A fetch compared with what is stored (no I/O: `match_items` builds it)."""

    present: list[Indexed] = field(default_factory=list)  # every fetched item once
    new: list[Indexed] = field(default_factory=list)  # not stored yet
    stored: list[StoredMatch] = field(default_factory=list)  # stored rows to write, in feed order
    listed: list[int] = field(default_factory=list)  # ids of every stored row the fetch lists

    @property
    def changed(self) -> list[tuple[int, int]]:
        """(item id, story id) of each stored item whose text changed."""
        return [(m.row_id, m.story_id) for m in self.stored if m.edit == "text"]


def _edit(row: sqlite3.Row, item: ItemLike) -> Edit:
    # An item not rendered this time (summary None: its raw text was unchanged, or no channel
    # needed its text) has nothing to compare.
    if item.summary is None or item.content_hash is None:
        return "none"
    if row["content_hash"] == UNRENDERED:
        return "hash"  # rendered for the first time: never posted, so nothing to update
    if _h32(item.raw_hash) == row["raw_hash"]:
        return "none"
    if _h32(item.content_hash) == row["content_hash"]:
        return "hash"
    return "text"


def match_items(stored: Sequence[sqlite3.Row], items: Sequence[ItemLike]) -> Match:
    """Which fetched items are new, which are stored (by item key, else by story key), and
    what each stored row needs. A key seen twice in one document counts once. `stored` rows
    carry id, key_id, story_id, raw_hash, content_hash and gone_at."""
    by_key = {r["key_id"]: r for r in stored}
    by_story = {r["story_id"]: r for r in stored}
    match = Match()
    seen_keys: set[str] = set()
    for index, item in enumerate(items):
        if item.item_key in seen_keys or item.story_key in seen_keys:
            continue
        seen_keys.update((item.item_key, item.story_key))
        key, story = _h(item.item_key), _h(item.story_key)
        row = by_key.get(key) or by_story.get(story)
        match.present.append((index, item))
        if row is None:
            match.new.append((index, item))
            continue
        match.listed.append(int(row["id"]))
        # Same story, new GUID (some feeds mint one per fetch): follow it, post nothing.
        rename = row["key_id"] != key and key not in by_key
        edit = _edit(row, item)
        if rename or edit != "none":
            match.stored.append(StoredMatch(int(row["id"]), int(row["story_id"]), item, rename, edit))
    return match


def _content(item: ItemLike) -> int:
    return UNRENDERED if item.content_hash is None else _h32(item.content_hash)


def _newest(p: Indexed) -> tuple[str, int]:
    # Sort key, oldest to newest: by date when known; feeds list newest first, so a later
    # place in the document is older when dates tie.
    return (p[1].published or "", -p[0])


def _delivery_row(
    sub: Subscription, item_id: int, story: int, kind: str, stamp: str, hold: Hold | None = None
) -> tuple[object, ...]:
    role = sub.mention_role if kind == "post" else None
    key = post_key(sub, story)
    # A new post may be held (quiet hours, a digest): due later, marked why. Updates never are.
    held = hold(sub) if hold is not None and kind == "post" else None
    due, why = (iso(held[0]), held[1]) if held else (stamp, None)
    return (sub.id, item_id, sub.platform, sub.scope_id, sub.channel_id, key, kind, role, due, new_nonce(), stamp, why)


# -- write the items -----------------------------------------------------------------------


async def _read_stored(tx: Tx, feed_id: int, items: Sequence[ItemLike]) -> list[sqlite3.Row]:
    """The stored rows of the fetched keys only (by item key, or by story key): never the
    feed's whole history. Both lookups use an index (feed_items_key, feed_items_story)."""
    keys = sorted({_h(it.item_key) for it in items})
    stories = sorted({_h(it.story_key) for it in items})
    if not keys:
        return []
    cols = "id, key_id, story_id, raw_hash, content_hash, gone_at"
    return await tx.fetchall(
        f"SELECT {cols} FROM feed_items WHERE feed_id = ? AND key_id IN ({','.join('?' * len(keys))})"
        f" UNION SELECT {cols} FROM feed_items WHERE feed_id = ? AND story_id IN ({','.join('?' * len(stories))})",
        (feed_id, *keys, feed_id, *stories),
    )


async def _write_items(tx: Tx, feed_id: int, match: Match, stamp: str) -> dict[str, int]:
    """Update stored rows (in feed order, as matched) and insert new ones; returns the id of
    every fetched item by item key, as it is now."""
    for m in match.stored:
        it = m.item
        if m.rename:
            await tx.execute("UPDATE feed_items SET key_id = ? WHERE id = ?", (_h(it.item_key), m.row_id))
        if m.edit == "hash":
            await tx.execute(
                "UPDATE feed_items SET raw_hash = ?, content_hash = ? WHERE id = ?",
                (_h32(it.raw_hash), _h32(it.content_hash), m.row_id),
            )
        elif m.edit == "text":
            # The new text itself is written with the deliveries (_write_text), if one waits.
            await tx.execute(
                "UPDATE feed_items SET raw_hash = ?, content_hash = ? WHERE id = ?",
                (_h32(it.raw_hash), _h32(it.content_hash), m.row_id),
            )
    if match.new:
        await tx.executemany(
            "INSERT INTO feed_items(feed_id, key_id, story_id, raw_hash, content_hash) VALUES (?, ?, ?, ?, ?)",
            [(feed_id, _h(it.item_key), _h(it.story_key), _h32(it.raw_hash), _content(it)) for _, it in match.new],
        )
    keys = {_h(it.item_key): it.item_key for _, it in match.present}
    rows = await tx.fetchall(
        f"SELECT id, key_id FROM feed_items WHERE feed_id = ? AND key_id IN ({','.join('?' * len(keys))})",
        (feed_id, *keys),
    )
    return {keys[r["key_id"]]: int(r["id"]) for r in rows}


# -- plan the deliveries (after the item writes: stored text and keys are read as they now are)


def _first_sight(present: list[Indexed], sub: Subscription, accepts: Accepts, report: IngestReport) -> list[Indexed]:
    """A channel seeing the feed for the first time: the newest `latest` matching items,
    oldest first. With `latest` the fetch was rendered in full for it (FeedService fetches a
    feed with an unprimed subscription without the known hashes; _lacks_text checks), so
    every item has its text; with `latest = 0` the items may have none, and `would_post`
    then counts what their titles pass (nothing is posted either way)."""
    matching = [(i, it) for i, it in present if accepts(sub, it.title, it.summary or "")]
    report.would_post += len(matching)
    chosen = sorted(matching, key=_newest, reverse=True)[: sub.latest]
    return sorted(chosen, key=_newest)


async def _update_rows(
    tx: Tx, subs: list[Subscription], changed: list[tuple[int, int]], stamp: str
) -> list[tuple[object, ...]]:
    """An update for every channel where this item's post already went out. A post still
    pending needs nothing: it is rendered from the item's latest text when sent."""
    rows: list[tuple[object, ...]] = []
    for item_id, story in changed:
        for sub in subs:
            posted = await tx.fetchone(
                "SELECT status FROM feed_deliveries WHERE kind = 'post' AND post_key = ? AND item_id = ?",
                (post_key(sub, story), item_id),
            )
            if posted is not None and posted["status"] == "sent":
                rows.append(_delivery_row(sub, item_id, story, "update", stamp))
    return rows


def _lacks_text(subs: list[Subscription], match: Match) -> bool:
    """A channel would post an item that this fetch carries without its text: a new item for
    a channel that has seen the feed, any listed one for a first sight with `latest`."""
    active = [s for s in subs if not s.paused and not s.resuming]
    if any(s.primed for s in active) and any(it.summary is None for _, it in match.new):
        return True
    return any(not s.primed and s.latest > 0 for s in active) and any(it.summary is None for _, it in match.present)


async def _joining(tx: Tx, sub: Subscription, stamp: str, hold: Hold | None) -> Hold | None:
    """Held posts of this subscription that are due but not yet gathered (their round-up is
    made at the next delivery run): a new post joins them, so it never goes out before them."""
    if hold is None or (sub.mode == "each" and not sub.quiet_hours):
        return hold
    row = await tx.fetchone(
        "SELECT held FROM feed_deliveries WHERE subscription_id = ? AND held IS NOT NULL AND status = 'pending'"
        " AND roundup_id IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT 1",
        (sub.id, stamp),
    )
    if row is None:
        return hold
    due, why = from_iso(stamp), str(row["held"])
    assert due is not None
    return lambda _sub: (due, why)


async def _plan_deliveries(
    tx: Tx,
    subs: list[Subscription],
    match: Match,
    ids: dict[str, int],
    accepts: Accepts,
    report: IngestReport,
    stamp: str,
    hold: Hold | None = None,
) -> list[tuple[object, ...]]:
    """The outbox rows for this fetch: posts per channel, then updates of posts already sent."""
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
            to_post = _first_sight(match.present, sub, accepts, report)
        sub_hold = await _joining(tx, sub, stamp, hold) if to_post else hold
        out += [_delivery_row(sub, ids[it.item_key], _h(it.story_key), "post", stamp, sub_hold) for _, it in to_post]
    if changed := match.changed:
        out += await _update_rows(tx, subs, changed, stamp)
    return out


async def _write_text(tx: Tx, match: Match, ids: dict[str, int], rows: list[tuple[object, ...]], stamp: str) -> None:
    """The text of each fetched item that a pending delivery will render: new posts, an
    item seen before that a channel's first sight posts, a changed item whose update (or
    post) waits. Written from this fetch, so it is the latest; nothing else keeps text."""
    candidates = {int(str(r[1])) for r in rows} | {m.row_id for m in match.stored if m.edit == "text"}
    if not candidates:
        return
    chunk = sorted(candidates)
    waiting = await tx.fetchall(
        f"SELECT DISTINCT item_id FROM feed_deliveries WHERE item_id IN ({','.join('?' * len(chunk))})"
        " AND status = 'pending'",
        chunk,
    )
    pending = {int(r[0]) for r in waiting}
    edited = {m.row_id for m in match.stored if m.edit == "text"}
    texts = [
        (
            ids[it.item_key],
            it.title,
            it.link,
            it.summary,
            it.published,
            stamp,
            stamp if ids[it.item_key] in edited else None,
            getattr(it, "image", None),
        )
        for _, it in match.present
        if ids.get(it.item_key) in pending and it.summary is not None
    ]
    if texts:
        await tx.executemany(
            "INSERT INTO feed_item_texts(item_id, title, link, summary, published, first_seen_at, updated_at,"
            " image_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET title = excluded.title,"
            " link = COALESCE(excluded.link, feed_item_texts.link), summary = excluded.summary,"
            " published = excluded.published, updated_at = COALESCE(excluded.updated_at, feed_item_texts.updated_at),"
            " image_url = excluded.image_url",
            texts,
        )


# -- write the deliveries ------------------------------------------------------------------


async def _write_deliveries(tx: Tx, rows: list[tuple[object, ...]]) -> int:
    """Insert the planned rows; returns how many were new (the unique index allows one post
    per channel and story, whichever feed carried it, so the rest are ignored)."""
    if not rows:
        return 0
    return await tx.executemany(
        "INSERT INTO feed_deliveries(subscription_id, item_id, platform, scope_id, channel_id,"
        " post_key, kind, ping_role, next_attempt_at, nonce, created_at, held)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        rows,
    )


# -- tidy: what left the feed, what to forget; text no longer needed ----------------------


async def drop_delivered_text(tx: Tx, item_ids: Iterable[int]) -> None:
    """Forget the text of these items where no delivery of them is pending (it is needed
    only to render one). Uses feed_deliveries_item."""
    ids = sorted(set(item_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        await tx.execute(
            f"DELETE FROM feed_item_texts WHERE item_id IN ({','.join('?' * len(chunk))}) AND NOT EXISTS"
            " (SELECT 1 FROM feed_deliveries d WHERE d.item_id = feed_item_texts.item_id AND d.status = 'pending')",
            chunk,
        )


async def _tidy(tx: Tx, feed_id: int, match: Match, ids: dict[str, int], now: datetime, forget_after: timedelta) -> int:
    """Note what the feed no longer lists and forget what has been gone longer than the
    window; returns how many items were forgotten. Each statement reaches rows through
    feed_items_gone or the primary key, never the history."""
    listed = set(ids.values())
    seconds = int(now.timestamp())
    # Back in the feed: listed again.
    back = [r for r in match.listed if r in listed]
    if back:
        await tx.execute(
            f"UPDATE feed_items SET gone_at = NULL WHERE id IN ({','.join('?' * len(back))}) AND gone_at IS NOT NULL",
            back,
        )
    # No longer listed: gone from now (the window starts at the first fetch without it).
    still = sorted(listed)
    await tx.execute(
        "UPDATE feed_items SET gone_at = ? WHERE feed_id = ? AND gone_at IS NULL"
        f" AND id NOT IN ({','.join('?' * len(still))})",
        (seconds, feed_id, *still),
    )
    cur = await tx.execute(
        "DELETE FROM feed_items WHERE feed_id = ? AND gone_at < ?",
        (feed_id, seconds - int(forget_after.total_seconds())),
    )
    forgotten = max(cur.rowcount, 0)
    await cur.close()
    return forgotten


class Items:
    """FeedStore's items and the ingest (a mixin: FeedStore sets `db` and `forget_after`)."""

    db: Database
    forget_after: timedelta

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
        hold: Hold | None = None,
    ) -> IngestReport:
        """Record items and queue deliveries, all in one transaction with the feed's new state.
        Items may come without their text (summary None) where no channel posts them; if a
        channel would (its subscription changed meanwhile), TextNeeded is raised and nothing
        is written: parse the fetch again with every item's text.
        `hold` says when a subscription's new posts are due if not now (quiet hours, digest)."""
        report = IngestReport(seen=len(items))
        stamp = iso(now)

        # One transaction, in one trip where the engine allows it (storage/thread_tx.py): it
        # awaits nothing but its statements.
        async def write(tx: Tx) -> IngestReport:
            stored = await _read_stored(tx, feed_id, items)
            match = match_items(stored, items)
            subs = [
                Subscription.from_row(r)
                for r in await tx.fetchall("SELECT * FROM feed_subscriptions WHERE feed_id = ?", (feed_id,))
            ]
            if _lacks_text(subs, match):
                raise TextNeeded(feed_id)  # nothing written yet: the transaction rolls back
            ids = await _write_items(tx, feed_id, match, stamp)
            report.new = len(match.new)
            report.changed = len(match.changed)
            rows = await _plan_deliveries(tx, subs, match, ids, accepts, report, stamp, hold)
            report.queued = await _write_deliveries(tx, rows)
            await _write_text(tx, match, ids, rows, stamp)
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
            if match.present:
                report.forgotten = await _tidy(tx, feed_id, match, ids, now, self.forget_after)
            return report

        return await self.db.run_transaction(write)

    async def known_hashes(self, feed_id: int) -> KnownHashes:
        """The raw hashes of what the feed listed at its last fetch (feed_items_gone: the rows
        with gone_at NULL), for the parser. On the reader: a shortcut only (a hash a moment
        old just means one item's text is rendered again), so it never waits behind a write."""
        rows = await self.db.reader.fetchall(
            "SELECT key_id, raw_hash FROM feed_items WHERE feed_id = ? AND gone_at IS NULL", (feed_id,)
        )
        return KnownHashes({r[0]: r[1] for r in rows})

    async def item(self, item_id: int) -> StoredItem | None:
        """An item's text, to render a delivery of it (kept while one is pending). On the
        reader: the text was committed before the delivery could be claimed."""
        row = await self.db.reader.fetchone(
            "SELECT i.id, i.feed_id, COALESCE(t.title, '') AS title, t.link, COALESCE(t.summary, '') AS summary,"
            " t.published, t.updated_at, COALESCE(f.name, f.title, f.url) AS feed_name, t.image_url"
            " FROM feed_items i JOIN feeds f ON f.id = i.feed_id LEFT JOIN feed_item_texts t ON t.item_id = i.id"
            " WHERE i.id = ?",
            (item_id,),
        )
        return StoredItem(**dict(row)) if row else None
