"""The feeds repository: feeds, subscriptions, items seen, and deliveries as an outbox.

The outbox is what makes "never lost, never twice" hold across crashes: new items and
one delivery row per subscribed channel are written in the same transaction as the feed's
new state, and a delivery becomes `sent` only after the platform confirmed the post. A
unique index allows one post per story per channel, whichever feed carried the story.

One facade, `FeedStore`, over a module per reason to change:
- records.py        the rows (Feed, Subscription, Delivery, StoredItem, ...) and the shapes
                    storage accepts (ItemLike, ChannelLike): plain values, nothing of ours
- subscriptions.py  feeds, their subscriptions and fetch state (due, failing, paused)
- items.py          stored items and `ingest` (match, write items, plan, write deliveries,
                    tidy: what left the feed, what to forget, text no longer needed)
- outbox.py         deliveries waiting to be posted, and their outcomes
- roundups.py       held posts (quiet hours, digests) gathered into one message, crash-safe
"""

from __future__ import annotations

from datetime import timedelta

from storage.feeds.items import FORGET_AFTER, Items, KnownHashes
from storage.feeds.outbox import Outbox
from storage.feeds.records import (
    PRIMED,
    RESUMING,
    Accepts,
    ChannelLike,
    Delivery,
    Feed,
    Hold,
    IngestReport,
    ItemLike,
    StoredItem,
    Subscription,
    TextNeeded,
    Timing,
    UnchangedFetch,
    from_iso,
    iso,
    new_nonce,
)
from storage.feeds.roundups import ROUNDUP_MAX, DueHeld, Roundups
from storage.feeds.subscriptions import Subscriptions
from storage.handle import Database

__all__ = [
    "PRIMED",
    "RESUMING",
    "ROUNDUP_MAX",
    "Accepts",
    "ChannelLike",
    "Delivery",
    "DueHeld",
    "Feed",
    "FeedStore",
    "Hold",
    "IngestReport",
    "ItemLike",
    "KnownHashes",
    "StoredItem",
    "Subscription",
    "TextNeeded",
    "Timing",
    "UnchangedFetch",
    "from_iso",
    "iso",
    "new_nonce",
]


class FeedStore(Subscriptions, Items, Outbox, Roundups):
    """Everything the feed pipeline and the !feeds commands store. The mixins share one
    `Database`; each method that writes several rows does so in one transaction. What a
    command shows is read on the database's read-only connection (`db.reader`), so it
    never waits behind an ingest."""

    def __init__(self, db: Database, *, forget_after: timedelta = FORGET_AFTER) -> None:
        self.db = db
        # An item gone from its feed longer than this is forgotten (items.py).
        self.forget_after = forget_after
