"""bench.feeds' database helpers: preloading seen items (`--seen-items`), the database's
size, and a consistent copy of it for the baseline's run."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from storage.db import hash64


def _history_rows(
    subs: list[tuple[int, int, str, str, str]], ks: range, first_id: int, gone_at: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows for items `ks` of the history, spread over the subscriptions' feeds, each posted
    once, as storage keeps them once delivered (migration 0006: keys and hashes as hash64
    integers, no text; a sent post keeps its item, post_key and message id)
    after they left their feed (gone_at, within the window)."""
    items: list[tuple[Any, ...]] = []
    deliveries: list[tuple[Any, ...]] = []
    for k in ks:
        _, feed_id, platform, scope_id, channel_id = subs[k % len(subs)]
        item_id = first_id + k
        story = (hash64(f"link:https://history.example.org/{feed_id}/{k}/") or 0) >> 16
        key = (hash64(f"guid:https://history.example.org/?p={k}") or 0) >> 16
        raw, content = (hash64(f"{k:032x}") or 0) >> 32, (hash64(f"{k + 1:032x}") or 0) >> 32
        items.append((item_id, feed_id, key, story, raw, content, gone_at))
        posted = hash64(f"{platform}\x1f{scope_id}\x1f{channel_id}\x1f{story}")  # storage.feeds.records.post_key
        deliveries.append((item_id, posted, f"m{k}"))
    return items, deliveries


def preload_history(path: Path, n: int, gone_at: int) -> None:
    """Bulk insert `n` seen items (with their sent posts) into the bench database, as the
    schema stores an item that left its feed after it was posted."""
    conn = sqlite3.connect(path)
    try:
        subs = conn.execute("SELECT id, feed_id, platform, scope_id, channel_id FROM feed_subscriptions").fetchall()
        first = (conn.execute("SELECT MAX(id) FROM feed_items").fetchone()[0] or 0) + 1
        conn.execute("BEGIN")
        for start in range(0, n, 100_000):
            items, deliveries = _history_rows(subs, range(start, min(n, start + 100_000)), first, gone_at)
            conn.executemany(
                "INSERT INTO feed_items(id, feed_id, key_id, story_id, raw_hash, content_hash, gone_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                items,
            )
            conn.executemany(
                "INSERT INTO feed_deliveries(item_id, post_key, kind, status, attempts, message_id)"
                " VALUES (?, ?, 'post', 'sent', 1, ?)",
                deliveries,
            )
        conn.execute(
            f"UPDATE feed_subscriptions SET posts_sent = posts_sent + {n} / {len(subs)}"
            f" + (id IN (SELECT id FROM feed_subscriptions ORDER BY rowid LIMIT {n % len(subs)}))"
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def db_mb(path: Path) -> float:
    """The database's size on disk with its WAL, in MB."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 1e6


def snapshot(src: Path, dst: Path) -> None:
    """A consistent copy of the database (SQLite's online backup) for the baseline's run."""
    with contextlib.closing(sqlite3.connect(src)) as a, contextlib.closing(sqlite3.connect(dst)) as b:
        a.backup(b)
