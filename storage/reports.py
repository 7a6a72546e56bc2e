"""The reports repository: misinformation reports, their tags and the moderators' notes.

All SQL for reports lives here, so the cog reads as the workflow it is and another backend
can stand beside SQLite later. Times are passed in by the caller (the bot's clock), never
taken from SQLite's `now`, so tests with a fixed clock see exactly what production does.

Writes take an optional `tx` so that the cog can put a change and its audit-log entry in
one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from storage.db import Database, Tx

Status = Literal["open", "resolved", "dismissed"]
EraseReason = Literal["forgotten", "purged", "retention"]

# Columns that hold personal data, cleared together when a report is erased. The report's
# number, dates, status, tags and source category stay for the moderators' counts.
# Ids per `IN (...)` query: well under SQLite's bound-parameter limit.
_CHUNK = 500

# A direct-message channel identifies the conversation with one person, so its id and name
# go too; a public channel's id stays (the correction was posted there).
_ERASE_SET = (
    "text = NULL, reporter_id = NULL, message_id = NULL, message_link = NULL,"
    " message_author_id = NULL, message_author_name = NULL, resolution = NULL,"
    " channel_id = CASE WHEN channel_is_direct THEN '' ELSE channel_id END,"
    " channel_name = CASE WHEN channel_is_direct THEN '' ELSE channel_name END,"
    " announce_message_id = NULL, erased = ?, erased_at = ?"
)


def iso(dt: datetime) -> str:
    """The stored form of a time: UTC, second precision, sortable as text."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewReport:
    platform: str
    scope_id: str
    kind: Literal["told", "message"]
    text: str
    reporter_id: str
    channel_id: str
    channel_name: str = ""
    channel_is_direct: bool = False
    source: str | None = None
    redactions: int = 0
    message_id: str | None = None
    message_link: str | None = None
    message_author_id: str | None = None
    message_author_name: str | None = None


# The reports table enforces these with CHECK constraints (migration 0003).
ReportStatus = Literal["open", "resolved", "dismissed"]
AnnounceStatus = Literal["pending", "sending", "sent", "failed", "unrouted"]


@dataclass(frozen=True)
class Report:
    id: int
    platform: str
    scope_id: str
    kind: Literal["told", "message"]
    source: str | None
    status: ReportStatus
    created_at: str
    text: str | None
    redactions: int
    reporter_id: str | None
    channel_id: str
    channel_name: str
    channel_is_direct: bool
    message_id: str | None
    message_link: str | None
    message_author_id: str | None
    message_author_name: str | None
    announce_status: AnnounceStatus
    announce_attempts: int
    announce_message_id: str | None
    closed_at: str | None
    resolution: str | None
    corrected_at: str | None
    correction_topic: str | None
    correction_message_id: str | None
    erased: str | None
    erased_at: str | None
    tags: tuple[str, ...] = ()
    # The announcement was (or may have been) cut off mid-send: retry it as unsure.
    announce_unsure: bool = False
    # The parent's receipt has not been confirmed delivered.
    receipt_pending: bool = False

    @classmethod
    def from_row(cls, row: sqlite3.Row, tags: Sequence[str] = ()) -> Report:
        data = dict(row)
        data["channel_is_direct"] = bool(data["channel_is_direct"])
        data["announce_unsure"] = data.pop("announce_sending_at", None) is not None
        data["receipt_pending"] = bool(data.get("receipt_pending", 0))
        return cls(**data, tags=tuple(sorted(tags)))


@dataclass(frozen=True)
class Note:
    id: int
    report_id: int
    at: str
    moderator_id: str
    moderator_name: str
    text: str


@dataclass(frozen=True)
class EraseCounts:
    reports: int = 0
    notes: int = 0
    # (report id, platform, scope id, message id) of moderators' announcements that quoted
    # the erased text: the caller removes them from the platform too.
    announcements: tuple[tuple[int, str, str, str], ...] = ()


class ReportsRepo:
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
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            sql = f"SELECT report_id, tag FROM report_tags WHERE report_id IN ({','.join('?' * len(chunk))})"
            for t in await self.db.reader.fetchall(sql, chunk):
                tags.setdefault(t["report_id"], []).append(t["tag"])
        return [Report.from_row(r, tags.get(r["id"], ())) for r in rows]

    # -- creating --------------------------------------------------------------------

    async def create_within_limit(self, new: NewReport, *, now: datetime, since: datetime, limit: int) -> int | None:
        """Insert the report unless its reporter already made `limit` since `since`.

        The count and the insert share one transaction, so two reports sent at the same
        moment cannot both slip under the limit.
        """
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) FROM reports WHERE platform = ? AND reporter_id = ? AND created_at >= ?",
                (new.platform, new.reporter_id, iso(since)),
            )
            if row is not None and row[0] >= limit:
                return None
            cur = await tx.execute(
                "INSERT INTO reports(platform, scope_id, kind, source, created_at, text, redactions, reporter_id,"
                " channel_id, channel_name, channel_is_direct, message_id, message_link, message_author_id,"
                " message_author_name, receipt_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (
                    new.platform,
                    new.scope_id,
                    new.kind,
                    new.source,
                    iso(now),
                    new.text,
                    new.redactions,
                    new.reporter_id,
                    new.channel_id,
                    new.channel_name,
                    int(new.channel_is_direct),
                    new.message_id,
                    new.message_link,
                    new.message_author_id,
                    new.message_author_name,
                ),
            )
            return int(cur.lastrowid or 0)

    async def find_message_report(self, platform: str, message_id: str, reporter_id: str | None = None) -> int | None:
        """The earliest report of this message (by this reporter, if given)."""
        sql = "SELECT id FROM reports WHERE platform = ? AND message_id = ?"
        params: list[Any] = [platform, message_id]
        if reporter_id is not None:
            sql += " AND reporter_id = ?"
            params.append(reporter_id)
        row = await self.db.fetchone(sql + " ORDER BY id LIMIT 1", params)
        return int(row[0]) if row else None

    # -- reading ---------------------------------------------------------------------

    async def get(self, report_id: int, platform: str | None = None, scope_id: str | None = None) -> Report | None:
        """A report by number; with platform and scope, only if it belongs to that forum."""
        sql = "SELECT * FROM reports WHERE id = ?"
        params: list[Any] = [report_id]
        if platform is not None:
            sql += " AND platform = ? AND scope_id = ?"
            params += [platform, scope_id]
        row = await self.db.fetchone(sql, params)
        if row is None:
            return None
        return (await self._with_tags([row]))[0]

    async def page(
        self,
        platform: str,
        scope_id: str,
        *,
        status: str | None = "open",
        tag: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[Report], int]:
        """One page of a forum's reports, newest first, and the total that match."""
        where = "r.platform = ? AND r.scope_id = ?"
        params: list[Any] = [platform, scope_id]
        if status is not None:
            where += " AND r.status = ?"
            params.append(status)
        if tag is not None:
            where += " AND EXISTS (SELECT 1 FROM report_tags t WHERE t.report_id = r.id AND t.tag = ?)"
            params.append(tag)
        # On the read-only connection (storage/db.py): the queue is shown while feeds are written.
        total_row = await self.db.reader.fetchone(f"SELECT COUNT(*) FROM reports r WHERE {where}", params)
        rows = await self.db.reader.fetchall(
            f"SELECT r.* FROM reports r WHERE {where} ORDER BY r.id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return await self._with_tags(rows), int(total_row[0] if total_row else 0)

    async def for_reporter(self, platform: str, reporter_id: str, limit: int = 50) -> list[Report]:
        """A reporter's own reports (`!myreports`), on the read-only connection."""
        rows = await self.db.reader.fetchall(
            "SELECT * FROM reports WHERE platform = ? AND reporter_id = ? ORDER BY id DESC LIMIT ?",
            (platform, reporter_id, limit),
        )
        return await self._with_tags(rows)

    async def count_for_reporter(self, platform: str, reporter_id: str) -> tuple[int, int]:
        """(reports, notes on them) this reporter could ask to forget."""
        row = await self.db.reader.fetchone(
            "SELECT COUNT(*), (SELECT COUNT(*) FROM report_notes n JOIN reports r2 ON r2.id = n.report_id"
            " WHERE r2.platform = ? AND r2.reporter_id = ?) FROM reports WHERE platform = ? AND reporter_id = ?",
            (platform, reporter_id, platform, reporter_id),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def notes(self, report_id: int) -> list[Note]:
        rows = await self.db.fetchall("SELECT * FROM report_notes WHERE report_id = ? ORDER BY id", (report_id,))
        return [Note(**dict(r)) for r in rows]

    async def in_window(self, platform: str, scope_id: str, since: datetime) -> list[Report]:
        """Every report of a forum created since `since` (for the summary)."""
        rows = await self.db.fetchall(
            "SELECT * FROM reports WHERE platform = ? AND scope_id = ? AND created_at >= ? ORDER BY id",
            (platform, scope_id, iso(since)),
        )
        return await self._with_tags(rows)

    async def for_export(
        self, since: datetime, platform: str | None = None, scope_id: str | None = None
    ) -> list[tuple[Report, list[Note]]]:
        where = "created_at >= ?"
        params: list[Any] = [iso(since)]
        if platform is not None:
            where += " AND platform = ?"
            params.append(platform)
        if scope_id is not None:
            where += " AND scope_id = ?"
            params.append(scope_id)
        rows = await self.db.fetchall(f"SELECT * FROM reports WHERE {where} ORDER BY id", params)
        reports = await self._with_tags(rows)
        notes: dict[int, list[Note]] = {}
        ids = [r.id for r in reports]
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            note_rows = await self.db.fetchall(
                f"SELECT * FROM report_notes WHERE report_id IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk
            )
            for n in note_rows:
                notes.setdefault(n["report_id"], []).append(Note(**dict(n)))
        return [(r, notes.get(r.id, [])) for r in reports]

    # -- announcements ---------------------------------------------------------------

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

    async def record_announced(self, report_id: int, message_id: str | None) -> bool:
        """Record the posted notice's id, unless the report was erased while it was being
        posted: then nothing is kept and the caller removes the notice (False)."""
        async with self.db.transaction() as t:
            cur = await t.execute(
                "UPDATE reports SET announce_status = 'sent', announce_message_id = ?, announce_sending_at = NULL,"
                " announce_attempts = announce_attempts + 1 WHERE id = ? AND erased IS NULL",
                (message_id, report_id),
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

    # -- moderator changes -----------------------------------------------------------

    async def add_tag(self, report_id: int, tag: str, *, tx: Tx | None = None) -> bool:
        """False if the report already had the tag."""
        async with self._tx(tx) as t:
            cur = await t.execute("INSERT OR IGNORE INTO report_tags(report_id, tag) VALUES (?, ?)", (report_id, tag))
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

    # -- erasing ---------------------------------------------------------------------

    async def _erase(self, t: Tx, where: str, params: Sequence[Any], reason: EraseReason, at: datetime) -> EraseCounts:
        rows = await t.fetchall(
            f"SELECT id, platform, scope_id, announce_message_id FROM reports WHERE {where} AND erased IS NULL", params
        )
        ids = [r["id"] for r in rows]
        posted = tuple(
            (r["id"], r["platform"], r["scope_id"], r["announce_message_id"]) for r in rows if r["announce_message_id"]
        )
        notes = 0
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
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
