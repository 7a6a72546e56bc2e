"""Creating and reading reports: the parent's side (a new report, within the limit) and the
moderators' (one report, a page of them, the summary's window, the export)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.reports.base import CHUNK, RepoBase
from storage.reports.rows import NewReport, Note, Report, iso
from storage.turns import take_turns


class Queries(RepoBase):
    async def create_within_limit(self, new: NewReport, *, now: datetime, since: datetime, limit: int) -> int | None:
        """Insert the report unless its reporter already made `limit` since `since`.

        The count and the insert share one transaction, so two reports sent at the same
        moment cannot both slip under the limit.
        """
        async with self.db.transaction() as tx:
            # Instances sharing PostgreSQL count and insert one at a time per reporter too.
            await take_turns(self.db, tx, f"report-limit:{new.platform}:{new.reporter_id}")
            row = await tx.fetchone(
                "SELECT COUNT(*) FROM reports WHERE platform = ? AND reporter_id = ? AND created_at >= ?",
                (new.platform, new.reporter_id, iso(since)),
            )
            if row is not None and row[0] >= limit:
                return None
            cur = await tx.execute(
                "INSERT INTO reports(platform, scope_id, kind, source, created_at, text, redactions, reporter_id,"
                " channel_id, channel_name, channel_is_direct, message_id, message_link, message_author_id,"
                " message_author_name, notify_outcome, receipt_pending)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
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
                    int(new.notify),
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

    async def person_has_reports(self, platform: str, scope_id: str, user_id: str) -> bool:
        """Whether a forum has reports made by this user id or of their messages."""
        row = await self.db.fetchone(
            "SELECT 1 FROM reports WHERE platform = ? AND scope_id = ? AND (reporter_id = ? OR message_author_id = ?)"
            " LIMIT 1",
            (platform, scope_id, user_id, user_id),
        )
        return row is not None

    async def people_named(self, platform: str, scope_id: str, name: str) -> list[tuple[str, str, int]]:
        """(user id, name, reports) of each author of a reported message in a forum whose name
        is `name`, ignoring case. Only authors' names are stored: a reporter's never is."""
        rows = await self.db.fetchall(
            "SELECT message_author_id, message_author_name, COUNT(*) FROM reports"
            " WHERE platform = ? AND scope_id = ? AND message_author_id IS NOT NULL"
            " AND message_author_name IS NOT NULL GROUP BY message_author_id, message_author_name",
            (platform, scope_id),
        )
        wanted = name.casefold()
        people: dict[str, tuple[str, int]] = {}
        for user_id, shown, count in rows:
            if str(shown).casefold() == wanted:
                _, before = people.get(user_id, (shown, 0))
                people[user_id] = (shown, before + int(count))
        return sorted(((uid, shown, n) for uid, (shown, n) in people.items()), key=lambda p: (-p[2], p[0]))

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
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            note_rows = await self.db.fetchall(
                f"SELECT * FROM report_notes WHERE report_id IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk
            )
            for n in note_rows:
                notes.setdefault(n["report_id"], []).append(Note(**dict(n)))
        return [(r, notes.get(r.id, [])) for r in reports]
