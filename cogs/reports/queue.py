"""The moderators' queue: `!reports` (list), `show`, `tag`, `untag`, `note`, `resolve`,
`dismiss`, `reopen`, `summary` and `purge-user`.

Every moderator action is audited, in the same transaction as the change it records.
`!reports correct` (choosing a topic, the private preview, the confirm) and the outcome notice
sent to a parent who asked are in corrections.py; the names it used to hold are re-exported here
so `from cogs.reports.queue import ...` keeps working.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta
from typing import Any, Literal

from bot.commands import Rest, command
from bot.context import CommandContext
from bot.errors import UsageError, UserError
from bot.model import Card, Place, Reply
from cogs.reports import views
from cogs.reports.base import ID_HELP, ReportOutcome, ReportsBase
from cogs.reports.corrections import (
    CORRECT_CANCEL,
    CORRECT_CONFIRM,
    CORRECT_PREVIEW,
    MAX_TOPIC_CHOICES,
    PREVIEW_TTL,
    CorrectionPlan,
    RightsLookup,
)
from cogs.reports.redact import redact
from storage.reports import Report

# Re-exported: these lived here before corrections.py was split out (issue 12).
__all__ = [
    "CORRECT_CANCEL",
    "CORRECT_CONFIRM",
    "CORRECT_PREVIEW",
    "MAX_TOPIC_CHOICES",
    "PREVIEW_TTL",
    "CorrectionPlan",
    "ListStatus",
    "QueueMixin",
    "ReportOutcome",
    "RightsLookup",
]

log = logging.getLogger(__name__)

ListStatus = Literal["open", "resolved", "dismissed", "all"]

# The default for optional free text (a module-level constant, as ruff's B008 asks).
NO_TEXT = Rest("")
PAGE_SIZE = 10
NOTE_LIMIT = 1000
# Notes and closing text added after a report's text was deleted would outlive the deletion.
_ERASED_NO_TEXT = "Report #{id}'s text has been deleted, so it can't take a note or closing text any more."
SUMMARY_MAX_DAYS = 3650

_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# A mention as the platform writes it: Discord <@123> or <@!123>, Slack <@U123> or <@U123|name>.
_MENTION_RE = re.compile(r"<@!?([A-Za-z0-9]{1,40})(?:\|[^>]{0,80})?>")
# What could be a platform's user id (Discord: digits; Slack: U or W and capitals and digits;
# the console: any word).
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class QueueMixin(ReportsBase):
    """The `!reports ...` commands, all moderator-only."""

    async def _in_moderator_channel(self, place: Place) -> bool:
        channel = await self.moderator_channel(place.platform, place.scope_id)
        return channel is not None and channel.channel_id == place.id

    async def _reply(self, ctx: CommandContext, text: str = "", *, card: Card | None = None) -> Reply:
        """Moderator answers are public only in the moderators' channel (or a DM), so report
        text is never shown in a members' channel by a moderator's slip."""
        private = not (ctx.place.is_direct or await self._in_moderator_channel(ctx.place))
        return Reply(text, card=card, ephemeral=private)

    async def _get(self, ctx: CommandContext, report_id: int) -> Report:
        report = await self.repo.get(report_id, ctx.place.platform, ctx.place.scope_id)
        if report is None:
            raise UserError(f"There is no report #{report_id} for this forum. `{self.core.prefix}reports` lists them.")
        return report

    async def _audit(
        self,
        ctx: CommandContext,
        action: str,
        report_id: int | None,
        detail: str = "",
        tx: Any = None,
        *,
        scope: str | None = None,
    ) -> None:
        """`scope`: the report's forum, for a button pressed somewhere else (a direct message)."""
        target = f"report #{report_id}" if report_id is not None else ""
        await self.core.audit.record(ctx.author, scope or ctx.place.scope_id, action, target, detail, tx=tx)

    @command(
        "reports",
        help="Moderators: list reports, newest first (open ones unless `status=` says otherwise).",
        aliases=("reports list",),
        moderator_only=True,
        args_help={
            "page": "page number (10 a page)",
            "status": "open, resolved, dismissed or all (default open)",
            "tag": "only this tag",
        },
        examples=("!reports", "!reports 2", "!reports status=all tag=6000-myth"),
    )
    async def reports(self, ctx: CommandContext, page: int = 1, *, status: ListStatus = "open", tag: str = "") -> Reply:
        if page < 1:
            raise UsageError("The page number starts at 1.")
        tag_filter = _tag(tag) if tag else None
        offset = (page - 1) * PAGE_SIZE
        items, total = await self.repo.page(
            ctx.place.platform,
            ctx.place.scope_id,
            status=None if status == "all" else status,
            tag=tag_filter,
            limit=PAGE_SIZE,
            offset=offset,
        )
        pages = max(1, math.ceil(total / PAGE_SIZE))
        listed = f"page {page}, {status}" + (f", tag {tag_filter}" if tag_filter else "")
        await self._audit(ctx, "report.list", None, listed)
        if page > pages:
            raise UserError(f"There {'is' if pages == 1 else 'are'} only {views.plural(pages, 'page')}.")
        card = views.list_card(
            items,
            total=total,
            page=page,
            pages=pages,
            status=status,
            tag=tag_filter,
            prefix=self.core.prefix,
            tz=await self.core.tz_for(ctx.place.platform, ctx.place.scope_id),
        )
        return await self._reply(ctx, card=card)

    @command("reports show", help="Moderators: one report in full.", moderator_only=True, args_help=ID_HELP)
    async def reports_show(self, ctx: CommandContext, id: int) -> Reply:
        report = await self._get(ctx, id)
        notes = await self.repo.notes(report.id)
        await self._audit(ctx, "report.view", report.id)
        place = ctx.place
        card = views.detail_card(
            report,
            notes,
            show_reporter=await self.show_reporter(place.platform, place.scope_id),
            tz=await self.core.tz_for(place.platform, place.scope_id),
        )
        return await self._reply(ctx, card=card)

    @command(
        "reports tag",
        help="Moderators: tag a report with the claim it makes, e.g. `ehcp-abolished`, `6000-myth`, `must-wait`.",
        moderator_only=True,
        args_help={**ID_HELP, "tag": "one word: lower-case letters, digits and hyphens, up to 40"},
        examples=("!reports tag 12 must-wait", "!reports tag 12 ehcp-abolished"),
        usage="<id> <tag>",
    )
    async def reports_tag(self, ctx: CommandContext, id: int, tag: Rest) -> Reply:
        return await self._tag_report(ctx, id, _tag(tag))

    async def _tag_report(self, ctx: CommandContext, id: int, tag: str) -> Reply:
        report = await self._get(ctx, id)
        async with self.core.db.transaction() as tx:
            added = await self.repo.add_tag(report.id, tag, tx=tx)
            if added:
                await self._audit(ctx, "report.tag", report.id, tag, tx=tx)
        if not added:
            return await self._reply(ctx, f"Report #{report.id} is already tagged `{tag}`.")
        return await self._reply(ctx, f"Tagged report #{report.id} as `{tag}`.")

    @command(
        "reports untag",
        help="Moderators: remove a tag from a report.",
        moderator_only=True,
        args_help={**ID_HELP, "tag": "the tag to remove"},
        usage="<id> <tag>",
    )
    async def reports_untag(self, ctx: CommandContext, id: int, tag: Rest) -> Reply:
        return await self._untag_report(ctx, id, _tag(tag))

    async def _untag_report(self, ctx: CommandContext, id: int, tag: str) -> Reply:
        report = await self._get(ctx, id)
        async with self.core.db.transaction() as tx:
            removed = await self.repo.remove_tag(report.id, tag, tx=tx)
            if removed:
                await self._audit(ctx, "report.untag", report.id, tag, tx=tx)
        if not removed:
            raise UserError(f"Report #{report.id} has no tag `{tag}`.")
        return await self._reply(ctx, f"Removed the tag `{tag}` from report #{report.id}.")

    @command(
        "reports note",
        help="Moderators: add a private note to a report.",
        moderator_only=True,
        args_help={**ID_HELP, "text": "the note, seen only by moderators"},
    )
    async def reports_note(self, ctx: CommandContext, id: int, text: Rest) -> Reply:
        note = text.strip()
        if not note:
            raise UsageError("Write the note after the report number.")
        if len(note) > NOTE_LIMIT:
            raise UserError(f"Notes can be up to {NOTE_LIMIT} characters; that one is {len(note)}.")
        report = await self._get(ctx, id)
        if report.erased:
            raise UserError(_ERASED_NO_TEXT.format(id=report.id))
        red = redact(note)
        async with self.core.db.transaction() as tx:
            note_id = await self.repo.add_note(
                report.id,
                at=self.core.now(),
                moderator_id=ctx.author.id,
                moderator_name=ctx.author.name,
                text=red.text,
                tx=tx,
            )
            if note_id:
                await self._audit(ctx, "report.note", report.id, tx=tx)
        if not note_id:  # erased meanwhile
            raise UserError(_ERASED_NO_TEXT.format(id=report.id))
        return await self._reply(ctx, f"Added a note to report #{report.id}.")

    async def _close(
        self, ctx: CommandContext, report_id: int, status: Literal["resolved", "dismissed"], why: str
    ) -> Reply:
        why = why.strip()
        if len(why) > NOTE_LIMIT:
            raise UserError(f"That can be up to {NOTE_LIMIT} characters; it is {len(why)}.")
        report = await self._get(ctx, report_id)
        if report.erased and why:
            how = f"`{self.core.prefix}reports {'resolve' if status == 'resolved' else 'dismiss'} {report.id}`"
            raise UserError(_ERASED_NO_TEXT.format(id=report.id) + f" Close it without one: {how}.")
        action = "resolve" if status == "resolved" else "dismiss"
        async with self.core.db.transaction() as tx:
            closed = await self.repo.close(
                report.id, status, at=self.core.now(), resolution=redact(why).text if why else None, tx=tx
            )
            if closed:
                await self._audit(ctx, f"report.{action}", report.id, tx=tx)
        if not closed:
            current = await self.repo.get(report.id)
            if current is not None and current.status == "open":  # erased meanwhile
                raise UserError(_ERASED_NO_TEXT.format(id=report.id))
            raise UserError(f"Report #{report.id} is already {report.status}.")
        days = self.settings.retention_days
        told = await self._tell_outcome_once(report, status)
        return await self._reply(
            ctx, f"Report #{report.id} is {status}. Its text will be deleted in {days} days.{told}"
        )

    async def _tell_outcome_once(self, report: Report, status: Literal["resolved", "dismissed"]) -> str:
        """The parent hears one message about their report: a correction already told them
        what the moderators did, so closing the report afterwards sends nothing more."""
        if report.corrected_at and report.notify_outcome and report.reporter_id:
            return (
                " The parent who reported it already had a private message about the correction, "
                "so I sent nothing more."
            )
        return await self._tell_reporter(report, status)

    @command(
        "reports resolve",
        help="Moderators: mark a report dealt with, with an optional note.",
        moderator_only=True,
        args_help={**ID_HELP, "note": "what was done (optional)"},
    )
    async def reports_resolve(self, ctx: CommandContext, id: int, note: Rest = NO_TEXT) -> Reply:
        return await self._close(ctx, id, "resolved", note)

    @command(
        "reports dismiss",
        help="Moderators: close a report that needs no action, with a reason.",
        moderator_only=True,
        args_help={**ID_HELP, "reason": "why no action is needed (optional)"},
    )
    async def reports_dismiss(self, ctx: CommandContext, id: int, reason: Rest = NO_TEXT) -> Reply:
        return await self._close(ctx, id, "dismissed", reason)

    @command(
        "reports reopen",
        help="Moderators: open a resolved or dismissed report again (for example, to post a correction).",
        moderator_only=True,
        args_help=ID_HELP,
    )
    async def reports_reopen(self, ctx: CommandContext, id: int) -> Reply:
        report = await self._get(ctx, id)
        async with self.core.db.transaction() as tx:
            reopened = await self.repo.reopen(report.id, tx=tx)
            if reopened:
                await self._audit(ctx, "report.reopen", report.id, f"was {report.status}", tx=tx)
        if not reopened:
            raise UserError(f"Report #{report.id} is open already.")
        return await self._reply(ctx, f"Report #{report.id} is open again.")

    @command(
        "reports summary",
        help="Moderators: counts by status and tag, and the most reported claims, in the last [days] (default 30).",
        moderator_only=True,
    )
    async def reports_summary(self, ctx: CommandContext, days: int = 30) -> Reply:
        if not 1 <= days <= SUMMARY_MAX_DAYS:
            raise UsageError(f"`days` should be between 1 and {SUMMARY_MAX_DAYS}.")
        since = self.core.now() - timedelta(days=days)
        items = await self.repo.in_window(ctx.place.platform, ctx.place.scope_id, since)
        await self._audit(ctx, "report.summary", None, f"{days} days")
        title = f"Reports in the last {views.plural(days, 'day')}: {len(items)}"
        if not items:
            return await self._reply(ctx, card=Card(title=title, body="No reports."))
        return await self._reply(ctx, card=views.summary_card(title, items, prefix=self.core.prefix))

    @command(
        "reports purge-user",
        help="Moderators: delete a member's personal data from reports (reports they made and of their messages).",
        moderator_only=True,
        args_help={"user": "a mention (@name), their user id, or the name shown on a reported message"},
        examples=(
            "!reports purge-user @Sam",
            "!reports purge-user 123456789012345678",
            "!reports purge-user Jo Bloggs",
        ),
    )
    async def reports_purge_user(self, ctx: CommandContext, user: Rest) -> Reply:
        user_id = await self._person(ctx, user.strip())
        now = self.core.now()
        platform, scope = ctx.place.platform, ctx.place.scope_id
        async with self.core.db.transaction() as tx:
            made = await self.repo.erase_reporter(platform, user_id, reason="purged", at=now, scope_id=scope, tx=tx)
            about = await self.repo.erase_message_author(platform, scope, user_id, at=now, tx=tx)
            # The purged user's id is left out of the audit entry on purpose.
            detail = f"{made.reports} made, {about.reports} of their messages"
            await self._audit(ctx, "report.purge-user", None, detail, tx=tx)
        await self._after_erasure(made, about)
        notes = made.notes + about.notes
        if not (made.reports or about.reports):
            return await self._reply(
                ctx, "I have no reports from or about that member in this forum. Nothing was deleted."
            )
        return await self._reply(
            ctx,
            f"Erased {views.plural(made.reports + about.reports, 'report')}. "
            f"I deleted that member's personal data from {views.plural(made.reports, 'report')} they made and "
            f"{views.plural(about.reports, 'report')} of their messages (text, ids, names, links and "
            f"{views.plural(notes, 'note')}). Numbers, dates, status and tags remain as anonymous counts.",
        )

    async def _person(self, ctx: CommandContext, typed: str) -> str:
        """The user id a moderator means: a mention (Discord <@123>, Slack <@U123>, or @U123 as
        the Slack adapter passes it on), an id, or the name on a reported message. A name two
        people share is refused with the choices, so the wrong person is never erased."""
        p = self.core.prefix
        platform, scope = ctx.place.platform, ctx.place.scope_id
        m = _MENTION_RE.fullmatch(typed)
        if m:
            return m.group(1)
        if not typed or len(typed) > 100 or "<" in typed or "`" in typed:
            raise UsageError("Give the member's user id or mention (@name), or their name as it shows on a report.")
        token = typed.removeprefix("@").strip()
        if _ID_RE.fullmatch(token) and await self.repo.person_has_reports(platform, scope, token):
            return token
        people = await self.repo.people_named(platform, scope, token)
        if len(people) == 1:
            return people[0][0]
        if len(people) > 1:
            choices = "; ".join(
                f"{views.safe(name, 60)}: `{p}reports purge-user {uid}` ({views.plural(n, 'report')})"
                for uid, name, n in people[:10]
            )
            raise UserError(f"More than one person is called {views.safe(token, 60)}. Choose one: {choices}.")
        if _ID_RE.fullmatch(token):
            return token  # an id with no reports: nothing to delete, and the answer says so
        raise UserError(
            f"I have no reports from or about anyone called {views.safe(token, 60)} in this forum. "
            "Names are kept only for people whose messages were reported: for someone who made "
            "reports, mention them or give their user id."
        )


def _tag(raw: str) -> str:
    words = raw.strip().lower().lstrip("#").split()
    if len(words) > 1:
        # `!reports tag 2 ehcp abolished`: say how to make one tag of the words.
        joined = "-".join(re.sub(r"[^a-z0-9-]", "", w) for w in words).strip("-")
        joined = re.sub(r"-{2,}", "-", joined)[:40].strip("-")
        example = joined if _TAG_RE.match(joined) else "ehcp-abolished"
        raise UsageError(f"Tags are single words. Join the words with a hyphen: try `{example}`.")
    tag = words[0] if words else ""
    if not _TAG_RE.match(tag):
        raise UsageError("Tags are lower-case letters, digits and hyphens (up to 40), e.g. `must-wait`.")
    return tag
