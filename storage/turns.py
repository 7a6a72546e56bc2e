"""Taking turns on one key across instances (issue 15).

On SQLite every write transaction already takes turns (BEGIN IMMEDIATE: one writer at a
time, and one bot per file). On PostgreSQL several instances write at once, so a
transaction that reads and then writes on what it read (count a parent's reports today,
then add one) first takes a transaction-scoped advisory lock on its key: another instance
doing the same for the same key waits until this one commits, then sees its row.
"""

from __future__ import annotations

from storage.db import hash64
from storage.handle import Database, Tx


async def take_turns(db: Database, tx: Tx, key: str) -> None:
    """Hold `key` until `tx` ends (PostgreSQL); nothing to do on SQLite."""
    if db.dialect == "postgresql":
        await tx.fetchone("SELECT pg_advisory_xact_lock(?)", (hash64(f"sendbot:{key}"),))
