"""Item keys and hashes as storage keeps them, and KnownHashes, what the parser is told.

Keys are the top 48 bits of `storage.db.hash64` and raw and content hashes the top 32 (see
migration 0006); `UNRENDERED` marks a content hash never computed (items.py).
"""

from __future__ import annotations

import functools

from storage.db import hash64


def _h64(text: str | None) -> int:
    value = hash64(text or "")
    assert value is not None
    return value


# An ingest asks for the same keys several times (read, match, write, tidy): remembered for a
# while, since hashing was a third of an ingest's own work. 512: an ingest of 200 items fits.
@functools.lru_cache(maxsize=512)
def _h(text: str | None) -> int:
    """An item or story key as stored: the top 48 bits of hash64 (SQLite stores it in 6
    bytes; two keys of one feed collide with odds of about n^2 / 2^49)."""
    return _h64(text) >> 16


def _h32(text: str | None) -> int:
    """A raw or content hash as stored: the top 32 bits of hash64 (a collision could only
    hide one edit of one item; 4 bytes a row instead of 8). Never UNRENDERED."""
    return (_h64(text) >> 32) or 1


# The content hash of an item stored without its text ever being rendered: a fetch that no
# channel would post from (every subscription new with `latest = 0`, say) skips converting
# its HTML. Such an item was never posted, so the first fetch that renders it fills the hash
# in (a "hash" edit) and no update is sent.
UNRENDERED = 0


class KnownHashes:
    """The raw hashes of the items a feed listed at its last fetch, by item key: the parser
    skips re-rendering an item whose raw text is unchanged. Keys and hashes as stored
    (48-bit item key, 32-bit raw hash); picklable, for the parser's workers."""

    def __init__(self, by_key: dict[int, int] | None = None) -> None:
        self.by_key = by_key or {}

    def same(self, item_key: str, raw_hash: str) -> bool:
        stored = self.by_key.get(_h(item_key))
        return stored is not None and stored == _h32(raw_hash)

    def has(self, item_key: str) -> bool:
        """The feed listed this item at its last fetch (whatever its text)."""
        return _h(item_key) in self.by_key

    def __len__(self) -> int:
        return len(self.by_key)
