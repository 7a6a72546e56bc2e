"""What every part of the reports repository shares: the database, the caller's transaction
or a new one, and reading reports with their tags."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.handle import Database, Tx
from storage.reports.rows import Report

# Ids per `IN (...)` query: well under SQLite's bound-parameter limit.
CHUNK = 500


class RepoBase:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def _tx(self, tx: Tx | None) -> AsyncIterator[Tx]:
        """The caller's transaction, or a new one."""
        if tx is not None:
            yield tx
        else:
            async with self.db.transaction() as own:
                yield own

    async def _with_tags(self, rows: list[sqlite3.Row]) -> list[Report]:
        # Tags are read on the read-only connection: callers read outside any transaction.
        ids = [r["id"] for r in rows]
        tags: dict[int, list[str]] = {}
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            sql = f"SELECT report_id, tag FROM report_tags WHERE report_id IN ({','.join('?' * len(chunk))})"
            for t in await self.db.reader.fetchall(sql, chunk):
                tags.setdefault(t["report_id"], []).append(t["tag"])
        return [Report.from_row(r, tags.get(r["id"], ())) for r in rows]
