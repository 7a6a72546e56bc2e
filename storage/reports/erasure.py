"""Erasing reports' personal data: at the reporter's request (forgotten), with the author of a
reported message (purged), and after the retention period (retention). The report's number,
dates, status, tags and source category stay for the moderators' counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.handle import Tx
from storage.reports.base import CHUNK, RepoBase
from storage.reports.rows import EraseCounts, EraseReason, iso

# Columns that hold personal data, cleared together when a report is erased. A direct-message
# channel identifies the conversation with one person, so its id and name go too; a public
# channel's id stays (the correction was posted there).
_ERASE_SET = (
    "text = NULL, reporter_id = NULL, message_id = NULL, message_link = NULL,"
    " message_author_id = NULL, message_author_name = NULL, resolution = NULL,"
    " channel_id = CASE WHEN channel_is_direct <> 0 THEN '' ELSE channel_id END,"
    " channel_name = CASE WHEN channel_is_direct <> 0 THEN '' ELSE channel_name END,"
    " announce_message_id = NULL, notify_outcome = 0, erased = ?, erased_at = ?"
)


class Erasure(RepoBase):
    async def _erase(self, t: Tx, where: str, params: Sequence[Any], reason: EraseReason, at: datetime) -> EraseCounts:
        rows = await t.fetchall(
            f"SELECT id, platform, scope_id, announce_message_id, announce_channel_id FROM reports"
            f" WHERE {where} AND erased IS NULL",
            params,
        )
        ids = [r["id"] for r in rows]
        posted = tuple(
            (r["id"], r["platform"], r["scope_id"], r["announce_message_id"], r["announce_channel_id"])
            for r in rows
            if r["announce_message_id"]
        )
        notes = 0
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            cur = await t.execute(f"DELETE FROM report_notes WHERE report_id IN ({marks})", chunk)
            notes += cur.rowcount
            await t.execute(f"UPDATE reports SET {_ERASE_SET} WHERE id IN ({marks})", [reason, iso(at), *chunk])
        # Reports erased before may have gained a note or a resolution since (older data,
        # or a race with a moderator): those go too, whatever the erased flag says.
        cur = await t.execute(
            "DELETE FROM report_notes WHERE report_id IN"
            f" (SELECT id FROM reports WHERE {where} AND erased IS NOT NULL)",
            params,
        )
        notes += cur.rowcount
        await t.execute(
            f"UPDATE reports SET resolution = NULL WHERE {where} AND erased IS NOT NULL AND resolution IS NOT NULL",
            params,
        )
        await t.execute(
            f"UPDATE reports SET notify_outcome = 0 WHERE {where} AND erased IS NOT NULL AND notify_outcome != 0",
            params,
        )
        return EraseCounts(len(ids), notes, posted)

    async def erase_reporter(
        self,
        platform: str,
        reporter_id: str,
        *,
        reason: EraseReason,
        at: datetime,
        scope_id: str | None = None,
        tx: Tx | None = None,
    ) -> EraseCounts:
        """Erase the personal data of every report this person made (in one forum, if scoped)."""
        where = "platform = ? AND reporter_id = ?"
        params: list[Any] = [platform, reporter_id]
        if scope_id is not None:
            where += " AND scope_id = ?"
            params.append(scope_id)
        async with self._tx(tx) as t:
            return await self._erase(t, where, params, reason, at)

    async def erase_message_author(
        self, platform: str, scope_id: str, author_id: str, *, at: datetime, tx: Tx | None = None
    ) -> EraseCounts:
        """Erase reports of this person's messages: the text is theirs, as are their name and id."""
        async with self._tx(tx) as t:
            return await self._erase(
                t,
                "platform = ? AND scope_id = ? AND message_author_id = ?",
                [platform, scope_id, author_id],
                "purged",
                at,
            )

    async def apply_retention(self, *, closed_before: datetime, at: datetime) -> EraseCounts:
        """Erase resolved and dismissed reports closed before the cut-off."""
        async with self.db.transaction() as t:
            return await self._erase(
                t,
                "status IN ('resolved', 'dismissed') AND closed_at < ?",
                [iso(closed_before)],
                "retention",
                at,
            )
