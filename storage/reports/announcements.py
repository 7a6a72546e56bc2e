"""The moderators' announcement of each report and the parent's receipt: what was sent, what
may have been cut off mid-send (retried as unsure), what still has to go."""

from __future__ import annotations

from datetime import datetime

from storage.reports.base import RepoBase
from storage.reports.rows import AnnounceStatus, Report, iso


class Announcements(RepoBase):
    async def set_announce(self, report_id: int, status: AnnounceStatus, message_id: str | None = None) -> None:
        await self.db.execute(
            "UPDATE reports SET announce_status = ?, announce_message_id = COALESCE(?, announce_message_id),"
            " announce_attempts = announce_attempts + (CASE WHEN ? IN ('sent', 'failed') THEN 1 ELSE 0 END)"
            " WHERE id = ?",
            (status, message_id, status, report_id),
        )

    async def receipt_delivered(self, report_id: int) -> None:
        await self.db.execute("UPDATE reports SET receipt_pending = 0 WHERE id = ?", (report_id,))

    async def pending_receipts(self, platform: str, *, created_before: datetime, limit: int = 50) -> list[Report]:
        """Reports whose parent may never have seen the receipt (the bot stopped first)."""
        rows = await self.db.fetchall(
            "SELECT * FROM reports WHERE receipt_pending = 1 AND platform = ? AND created_at < ?"
            " AND reporter_id IS NOT NULL AND erased IS NULL ORDER BY id LIMIT ?",
            (platform, iso(created_before), limit),
        )
        return await self._with_tags(rows)

    async def mark_announcing(self, report_id: int, now: datetime) -> None:
        """Committed before the notice is posted; cleared once it is recorded (see migration 0004)."""
        await self.db.execute(
            "UPDATE reports SET announce_status = 'sending', announce_sending_at = ? WHERE id = ?",
            (iso(now), report_id),
        )

    async def record_announced(self, report_id: int, message_id: str | None, channel_id: str | None = None) -> bool:
        """Record the posted notice's id and channel, unless the report was erased while it was
        being posted: then nothing is kept and the caller removes the notice (False)."""
        async with self.db.transaction() as t:
            cur = await t.execute(
                "UPDATE reports SET announce_status = 'sent', announce_message_id = ?, announce_channel_id = ?,"
                " announce_sending_at = NULL, announce_attempts = announce_attempts + 1"
                " WHERE id = ? AND erased IS NULL",
                (message_id, channel_id, report_id),
            )
            if cur.rowcount > 0:
                return True
            await t.execute(
                "UPDATE reports SET announce_status = 'sent', announce_sending_at = NULL,"
                " announce_attempts = announce_attempts + 1 WHERE id = ?",
                (report_id,),
            )
            return False

    async def unannounced(
        self, *, created_before: datetime, max_attempts: int, platform: str | None = None, limit: int = 50
    ) -> list[Report]:
        """Reports whose announcement failed or never ran (the bot stopped mid-way), and, at
        any age, those cut off mid-send (unsure ones first)."""
        rows = await self.db.fetchall(
            "SELECT * FROM reports WHERE announce_status IN ('pending', 'failed', 'sending') AND announce_attempts < ?"
            " AND (created_at < ? OR announce_sending_at IS NOT NULL) AND text IS NOT NULL"
            + (" AND platform = ?" if platform else "")
            + " ORDER BY announce_sending_at IS NULL, id LIMIT ?",
            (max_attempts, iso(created_before), *([platform] if platform else []), limit),
        )
        return await self._with_tags(rows)
