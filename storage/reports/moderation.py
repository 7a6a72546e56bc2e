"""Moderators' changes to a report: tags, notes, closing it, the correction posted. Each takes
an optional `tx` so that the cog can put the change and its audit-log entry in one
transaction."""

from __future__ import annotations

from datetime import datetime

from storage.handle import Tx
from storage.reports.base import RepoBase
from storage.reports.rows import Status, iso


class Moderation(RepoBase):
    async def add_tag(self, report_id: int, tag: str, *, tx: Tx | None = None) -> bool:
        """False if the report already had the tag."""
        async with self._tx(tx) as t:
            cur = await t.execute(
                "INSERT INTO report_tags(report_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING", (report_id, tag)
            )
            return cur.rowcount > 0

    async def remove_tag(self, report_id: int, tag: str, *, tx: Tx | None = None) -> bool:
        async with self._tx(tx) as t:
            cur = await t.execute("DELETE FROM report_tags WHERE report_id = ? AND tag = ?", (report_id, tag))
            return cur.rowcount > 0

    async def add_note(
        self, report_id: int, *, at: datetime, moderator_id: str, moderator_name: str, text: str, tx: Tx | None = None
    ) -> int:
        """The note's id; 0 (nothing stored) if the report's text has been erased: a note
        added afterwards would outlive the erasure."""
        async with self._tx(tx) as t:
            cur = await t.execute(
                "INSERT INTO report_notes(report_id, at, moderator_id, moderator_name, text)"
                " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM reports WHERE id = ? AND erased IS NULL)",
                (report_id, iso(at), moderator_id, moderator_name, text, report_id),
            )
            return int(cur.lastrowid or 0) if cur.rowcount > 0 else 0

    async def close(
        self, report_id: int, status: Status, *, at: datetime, resolution: str | None, tx: Tx | None = None
    ) -> bool:
        """Resolve or dismiss an open report; False if it was not open, or if a resolution
        was given and the report's text has been erased (it would outlive the erasure)."""
        only_unerased = " AND erased IS NULL" if resolution is not None else ""
        async with self._tx(tx) as t:
            cur = await t.execute(
                "UPDATE reports SET status = ?, closed_at = ?, resolution = ? WHERE id = ? AND status = 'open'"
                + only_unerased,
                (status, iso(at), resolution, report_id),
            )
            return cur.rowcount > 0

    async def record_correction(
        self, report_id: int, *, at: datetime, topic: str, message_id: str | None, tx: Tx | None = None
    ) -> None:
        async with self._tx(tx) as t:
            await t.execute(
                "UPDATE reports SET corrected_at = ?, correction_topic = ?, correction_message_id = ? WHERE id = ?",
                (iso(at), topic, message_id, report_id),
            )

    async def reopen(self, report_id: int, *, tx: Tx | None = None) -> bool:
        """Open a resolved or dismissed report again; False if it was open already. Its closing
        time goes (retention counts from the next close); its closing note stays."""
        async with self._tx(tx) as t:
            cur = await t.execute(
                "UPDATE reports SET status = 'open', closed_at = NULL WHERE id = ? AND status != 'open'", (report_id,)
            )
            return cur.rowcount > 0

    async def ask_for_outcome(self, report_id: int, platform: str, reporter_id: str) -> bool:
        """The reporter asked to be told what happens; False if the report is not theirs, was
        erased, or is closed already."""
        async with self._tx(None) as t:
            cur = await t.execute(
                "UPDATE reports SET notify_outcome = 1 WHERE id = ? AND platform = ? AND reporter_id = ?"
                " AND erased IS NULL AND status = 'open'",
                (report_id, platform, reporter_id),
            )
            return cur.rowcount > 0
