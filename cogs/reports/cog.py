"""Misinformation reports: from a parent's report to a moderator's sourced correction.

Forums ask parents to say when a school or service tells them something has "already
changed", so that misinformation is caught early. Parents use `!report` (or a platform's
"Report misinformation" message action); moderators triage with `!reports ...` and answer
with a correction quoted from a `!rights` topic, never from the reporter.

Privacy shapes the flow: report text is redacted before it is stored, the command message
is removed from public channels, the reporter's identity is kept only so they can list and
delete their reports, and closed reports lose their text after the retention period.
PRIVACY.md lists every field.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from datetime import timedelta
from typing import Any, Literal, Protocol, cast

from rapidfuzz import fuzz, utils

from bot.cog import Cog
from bot.commands import Rest, command
from bot.config import Config, ReportsSection
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UsageError, UserError
from bot.markup import escape
from bot.messenger import DeliveryError
from bot.model import Actor, Card, CardField, ChannelRef, Place, Reply, ReportedMessage
from cogs.reports import views
from cogs.reports.redact import redact
from storage.reports import EraseCounts, NewReport, Report, ReportsRepo, iso

log = logging.getLogger(__name__)

Who = Literal["school", "LA", "health", "other"]
ListStatus = Literal["open", "resolved", "dismissed", "all"]

# The default for optional free text (a module-level constant, as ruff's B008 asks).
NO_TEXT = Rest("")
_ID_HELP = {"id": "the report's number, from `!reports`"}
PAGE_SIZE = 10
MY_REPORTS_SHOWN = 20
NOTE_LIMIT = 1000
# Notes and closing text added after a report's text was deleted would outlive the deletion.
_ERASED_NO_TEXT = "Report #{id}'s text has been deleted, so it can't take a note or closing text any more."
MAINTENANCE_INTERVAL = 3600.0  # seconds between retention runs (and announcement retries)
ANNOUNCE_MAX_ATTEMPTS = 5
ANNOUNCE_RETRY_AFTER = timedelta(minutes=2)
DRAIN_TIMEOUT = 10.0
RECEIPT_GRACE = timedelta(seconds=30)
SUMMARY_MAX_DAYS = 3650

# A link we will put inside [label](url): web addresses only, nothing that could close the
# parenthesis or carry markup.
_LINK_RE = re.compile(r"^https?://[^\s()<>\[\]`*_|]{1,500}$")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# A user as typed by a moderator: a raw platform id, or a mention (<@123>, <@!123>, <@U123|name>).
_USER_RE = re.compile(r"^(?:<@!?([A-Za-z0-9]{1,40})(?:\|[^>]{0,80})?>|@?([A-Za-z0-9][A-Za-z0-9._-]{0,63}))$")


class RightsLookup(Protocol):
    """The part of the rights cog a correction needs (see the !rights issue)."""

    def lookup(self, query: str) -> Any: ...

    def topic_card(self, topic: Any) -> Card: ...


class ReportsCog(Cog):
    name = "reports"
    description = "Report misinformation; moderators triage and correct it."

    def __init__(self, core: BotCore) -> None:
        super().__init__(core)
        self.repo = ReportsRepo(core.db)
        self._pending: set[asyncio.Task[Any]] = set()
        self._announcing: set[int] = set()  # reports whose first announcement is running
        core.dispatcher.register_action("report_message", self.report_message)

    @property
    def settings(self) -> ReportsSection:
        return self.core.config.reports

    # -- lifecycle -------------------------------------------------------------------

    async def on_start(self) -> None:
        if self.core.serving:
            self.core.spawn(self._maintenance_loop(), name="reports-maintenance")

    async def on_stop(self) -> None:
        # Let announcements in flight finish (core.stop cancels tasks next); any cut short
        # stay "pending" in storage and are retried on the next run.
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await self.drain()
        except TimeoutError:
            log.warning("%d report announcement(s) still in flight at shutdown; retried next run", len(self._pending))

    async def drain(self) -> None:
        """Wait for announcements in flight (tests use this instead of sleeping)."""
        while self._pending:
            batch = set(self._pending)
            await asyncio.wait(batch)
            self._pending -= batch

    async def _maintenance_loop(self) -> None:
        while True:
            try:
                await self.run_maintenance()
            except Exception:
                log.exception("report maintenance failed; will try again")
            await asyncio.sleep(MAINTENANCE_INTERVAL)

    async def run_maintenance(self) -> EraseCounts:
        counts = await self.apply_retention()
        await self.retry_announcements()
        for platform in list(self.core.messengers):
            await self.retry_receipts(platform)
        return counts

    async def apply_retention(self) -> EraseCounts:
        """Erase the text of reports closed more than `retention_days` ago."""
        now = self.core.now()
        cutoff = now - timedelta(days=self.settings.retention_days)
        counts = await self.repo.apply_retention(closed_before=cutoff, at=now)
        await self._after_erasure(counts)
        log.info(
            "report retention: erased %d closed report(s) and %d note(s) older than %d days",
            counts.reports,
            counts.notes,
            self.settings.retention_days,
        )
        return counts

    async def retry_announcements(self, platform: str | None = None) -> int:
        """Announce reports whose first announcement failed or never ran; one cut off mid-send
        goes as unsure (Slack looks in history first; Discord's nonce returns the first post)."""
        due = await self.repo.unannounced(
            created_before=self.core.now() - ANNOUNCE_RETRY_AFTER, max_attempts=ANNOUNCE_MAX_ATTEMPTS, platform=platform
        )
        for report in due:
            if report.id in self._announcing:
                continue  # its first try is still running
            await self._announce(report.id, None)
        return len(due)

    async def on_platform_ready(self, platform: str) -> None:
        # Announcements and receipts cut off by a crash or waiting for this platform go now,
        # not at the next hourly maintenance run.
        if self.core.serving:
            await self.retry_announcements(platform)
            await self.retry_receipts(platform)

    async def retry_receipts(self, platform: str) -> int:
        """Tell each parent whose receipt a crash cut off that their report arrived (privately)."""
        messenger = self.core.messengers.get(platform)
        if messenger is None:
            return 0
        # Not the reports of the last half minute: their answers may still be on their way.
        due = await self.repo.pending_receipts(platform, created_before=self.core.now() - RECEIPT_GRACE)
        for report in due:
            text = (
                f"Your report #{report.id} reached the moderators. Thank you. "
                "(This note comes late because the bot restarted just after you sent it.)"
            )
            try:
                await messenger.send_direct(report.scope_id, report.reporter_id or "", Reply(text))
            except Exception as e:
                log.info("report #%d: could not send the late receipt (%s)", report.id, type(e).__name__)
            # Once tried, not again: a parent should not get the same note every restart.
            await self.repo.receipt_delivered(report.id)
        return len(due)

    async def _after_erasure(self, *erased: EraseCounts) -> None:
        """Take down announcements that quoted the erased text, and checkpoint the database so
        the text does not linger in the -wal file either (PRIVACY.md)."""
        await self._retract(*erased)
        if any(c.reports or c.notes for c in erased):
            try:
                await self.core.db.checkpoint()
            except Exception as e:
                log.warning("could not checkpoint the database after an erasure (%s); it is retried", e)

    async def _retract(self, *erased: EraseCounts) -> None:
        """Remove the moderators' announcements that quoted erased text (best effort: a
        moderator may already have deleted one, or the adapter may not be running)."""
        for counts in erased:
            for report_id, platform, scope_id, message_id in counts.announcements:
                channel = self.moderator_channel(platform, scope_id)
                messenger = self.core.messengers.get(platform)
                if channel is None or messenger is None:
                    log.warning("report #%d: cannot remove its announcement now (no channel or adapter)", report_id)
                    continue
                try:
                    await messenger.delete(channel, message_id)
                except Exception as e:
                    log.warning("report #%d: could not remove its announcement (%s)", report_id, type(e).__name__)

    # -- announcing ------------------------------------------------------------------

    def moderator_channel(self, platform: str, scope_id: str) -> ChannelRef | None:
        for mc in self.settings.moderator_channels:
            if mc.platform == platform and mc.scope == scope_id:
                return ChannelRef(platform, scope_id, mc.channel)
        return None

    def _in_moderator_channel(self, place: Place) -> bool:
        channel = self.moderator_channel(place.platform, place.scope_id)
        return channel is not None and channel.channel_id == place.id

    def _schedule_announce(self, report_id: int, reporter: Actor) -> None:
        task = self.core.spawn(self._announce(report_id, reporter), name=f"report-announce-{report_id}")
        self._pending.add(task)
        self._announcing.add(report_id)
        task.add_done_callback(self._pending.discard)
        task.add_done_callback(lambda _: self._announcing.discard(report_id))

    async def _announce(self, report_id: int, reporter: Actor | None) -> None:
        """Post the notice; record the outcome. A failure never loses the report itself."""
        report = await self.repo.get(report_id)
        if report is None:
            return
        channel = self.moderator_channel(report.platform, report.scope_id)
        if channel is None:
            # INFO, not WARNING: `sendbot check` warns when no moderators' channel is set at
            # all, `!reports show` says the report was not announced, and on the console a
            # warning per report would interrupt the conversation.
            log.info(
                "report #%d: no reports.moderator_channels entry for %s/%s; moderators will see it in !reports",
                report.id,
                report.platform,
                report.scope_id,
            )
            await self.repo.set_announce(report.id, "unrouted")
            return
        shown: str | None = None
        if self.settings.show_reporter_to_moderators:
            shown = f"{reporter.name} ({reporter.id})" if reporter else (report.reporter_id or "unknown")
        also = None
        if report.kind == "message" and report.message_id:
            first = await self.repo.find_message_report(report.platform, report.message_id)
            also = first if first is not None and first != report.id else None
        reply = views.announcement(report, prefix=self.core.prefix, reporter=shown, also=also)
        unsure = report.announce_unsure or report.announce_status == "sending"
        try:
            await self.repo.mark_announcing(report.id, self.core.now())
            message_id = await self.core.post(channel, reply, nonce=f"report-{report.id}", unsure=unsure)
        except DeliveryError as e:
            log.warning("report #%d: announcement failed (%s); will retry", report.id, e)
            await self.repo.set_announce(report.id, "failed")
        except Exception:
            log.exception("report #%d: announcement failed unexpectedly; will retry", report.id)
            await self.repo.set_announce(report.id, "failed")
        else:
            if not await self.repo.record_announced(report.id, message_id):
                # Erased (!forgetme, a purge) while the notice was on its way: take it down.
                log.info("report #%d: erased while announced; removing the notice", report.id)
                if message_id:
                    notice = (report.id, report.platform, report.scope_id, message_id)
                    await self._retract(EraseCounts(0, 0, (notice,)))

    # -- parents ---------------------------------------------------------------------

    async def _store(self, ctx: CommandContext, new: NewReport) -> int:
        """Apply the daily limit and store; raise a friendly error when over the limit."""
        now = self.core.now()
        limit = self.settings.per_user_per_day
        report_id = await self.repo.create_within_limit(new, now=now, since=now - timedelta(days=1), limit=limit)
        if report_id is None:
            raise UserError(
                f"Thank you, but you've already sent {limit} report{'s' if limit != 1 else ''} in the last 24 hours, "
                "which is the most I can take from one person. Please try again tomorrow, "
                "or contact a moderator directly if it's urgent."
            )
        self._schedule_announce(report_id, ctx.author)
        # The receipt is the reply to this command: recorded as delivered once the adapter has
        # sent it; one a crash cut off is sent at the next connect (retry_receipts).
        ctx.after_reply.append(lambda: self.repo.receipt_delivered(report_id))
        return report_id

    def _confirmation(self, report_id: int, redacted: str) -> Reply:
        p = self.core.prefix
        text = (
            f"✅ Thank you. Your report is **#{report_id}**. The moderators will look into it "
            f"and may post a correction with sources. Check its progress with `{p}myreports`."
        )
        if redacted:
            text += f"\nTo protect your privacy I removed {redacted} before saving it."
        return Reply(text, ephemeral=True)

    @command(
        "report",
        help="Tell the moderators about something you were told that may be wrong: `!report the school said …`\n"
        "Only the moderators see it; in a public channel your message is removed.",
        args_help={
            "text": "what you were told, in your own words",
            "who": "who told you: school, LA (local authority), health or other",
        },
        examples=("!report school said EHCPs are being abolished this year who=school",),
        private_input=True,
    )
    async def report(self, ctx: CommandContext, text: Rest, *, who: Who | None = None) -> Reply:
        # private_input=True has already asked the adapter to remove the parent's message in
        # a public channel, even if the report is refused below.
        p = self.core.prefix
        claim = text.strip()
        if not claim:
            raise UsageError(
                f"Tell me what you were told, for example `{p}report the school said we must wait a year`."
            )
        limit = self.settings.max_length
        if len(claim) > limit:
            raise UserError(
                f"That report is {len(claim)} characters; the most I can take is {limit}. "
                "Please shorten it to the key claim and who made it."
            )
        red = redact(claim)
        day_ago = iso(self.core.now() - timedelta(days=1))
        for recent in await self.repo.for_reporter(ctx.author.platform, ctx.author.id, limit=10):
            if recent.text == red.text and recent.created_at >= day_ago:
                raise UserError(f"You already reported that today (#{recent.id}). Thank you, the moderators have it.")
        new = NewReport(
            platform=ctx.author.platform,
            scope_id=ctx.place.scope_id,
            kind="told",
            text=red.text,
            redactions=red.total,
            reporter_id=ctx.author.id,
            channel_id=ctx.place.id,
            channel_name=ctx.place.name,
            channel_is_direct=ctx.place.is_direct,
            source=who,
        )
        report_id = await self._store(ctx, new)
        return self._confirmation(report_id, red.summary())

    async def report_message(self, ctx: CommandContext, message: ReportedMessage) -> Reply:
        """The "Report misinformation" message action (Discord context menu, Slack shortcut)."""
        existing = await self.repo.find_message_report(message.place.platform, message.message_id, ctx.author.id)
        if existing is not None:
            raise UserError(f"You already reported that message (#{existing}). Thank you, the moderators have it.")
        red = redact(views.clip(message.text, self.settings.max_length) if message.text else "")
        new = NewReport(
            platform=ctx.author.platform,
            scope_id=message.place.scope_id,
            kind="message",
            text=red.text,
            redactions=red.total,
            reporter_id=ctx.author.id,
            channel_id=message.place.id,
            channel_name=message.place.name,
            channel_is_direct=message.place.is_direct,
            message_id=message.message_id,
            message_link=message.link if message.link and _LINK_RE.match(message.link) else None,
            message_author_id=message.author.id,
            message_author_name=message.author.name,
        )
        report_id = await self._store(ctx, new)
        return self._confirmation(report_id, red.summary())

    @command("myreports", help="Your own reports and what has happened to them (only you see this).")
    async def myreports(self, ctx: CommandContext) -> Reply:
        reports = await self.repo.for_reporter(ctx.author.platform, ctx.author.id, limit=MY_REPORTS_SHOWN + 1)
        card = views.my_reports_card(
            reports[:MY_REPORTS_SHOWN], more=len(reports) > MY_REPORTS_SHOWN, prefix=self.core.prefix, tz=self.core.tz
        )
        return Reply(card=card, ephemeral=True)

    @command(
        "forgetme",
        help="Delete what you wrote in your reports and your link to them. Asks you to confirm first.",
        args_help={"confirm": "type `confirm` to go ahead"},
    )
    async def forgetme(self, ctx: CommandContext, confirm: Literal["confirm"] | None = None) -> Reply:
        p = self.core.prefix
        platform, user = ctx.author.platform, ctx.author.id
        if confirm is None:
            reports, notes = await self.repo.count_for_reporter(platform, user)
            if not reports:
                return Reply("I have no reports from you, so there is nothing to delete.", ephemeral=True)
            return Reply(
                f"You have {_n(reports, 'report')} stored. `{p}forgetme confirm` will delete, for each one: "
                "what you wrote (or the message you reported, its author and link), your user id, "
                f"and the moderators' notes on it ({_n(notes, 'note')}). "
                "The report numbers, dates, status and tags stay as anonymous counts. This cannot be undone.",
                ephemeral=True,
            )
        counts = await self.repo.erase_reporter(platform, user, reason="forgotten", at=self.core.now())
        await self._after_erasure(counts)
        # Counts only: logging who asked to be forgotten would defeat the purpose.
        log.info("forgetme: erased %d report(s) and %d note(s)", counts.reports, counts.notes)
        if not counts.reports:
            return Reply("I have no reports from you, so there was nothing to delete.", ephemeral=True)
        return Reply(
            f"Done. I deleted the text, your user id and {_n(counts.notes, 'moderator note')} "
            f"from {_n(counts.reports, 'report')}. They no longer show in `{p}myreports`.",
            ephemeral=True,
        )

    # -- moderators ------------------------------------------------------------------

    def _reply(self, ctx: CommandContext, text: str = "", *, card: Card | None = None) -> Reply:
        """Moderator answers are public only in the moderators' channel (or a DM), so report
        text is never shown in a members' channel by a moderator's slip."""
        private = not (ctx.place.is_direct or self._in_moderator_channel(ctx.place))
        return Reply(text, card=card, ephemeral=private)

    async def _get(self, ctx: CommandContext, report_id: int) -> Report:
        report = await self.repo.get(report_id, ctx.place.platform, ctx.place.scope_id)
        if report is None:
            raise UserError(f"There is no report #{report_id} for this forum. `{self.core.prefix}reports` lists them.")
        return report

    async def _audit(
        self, ctx: CommandContext, action: str, report_id: int | None, detail: str = "", tx: Any = None
    ) -> None:
        target = f"report #{report_id}" if report_id is not None else ""
        await self.core.audit.record(ctx.author, ctx.place.scope_id, action, target, detail, tx=tx)

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
            raise UserError(f"There {'is' if pages == 1 else 'are'} only {_n(pages, 'page')}.")
        card = views.list_card(
            items,
            total=total,
            page=page,
            pages=pages,
            status=status,
            tag=tag_filter,
            prefix=self.core.prefix,
            tz=self.core.tz,
        )
        return self._reply(ctx, card=card)

    @command("reports show", help="Moderators: one report in full.", moderator_only=True, args_help=_ID_HELP)
    async def reports_show(self, ctx: CommandContext, id: int) -> Reply:
        report = await self._get(ctx, id)
        notes = await self.repo.notes(report.id)
        await self._audit(ctx, "report.view", report.id)
        card = views.detail_card(
            report, notes, show_reporter=self.settings.show_reporter_to_moderators, tz=self.core.tz
        )
        return self._reply(ctx, card=card)

    @command(
        "reports tag",
        help="Moderators: tag a report with the claim it makes, e.g. `ehcp-abolished`, `6000-myth`, `must-wait`.",
        moderator_only=True,
        args_help={**_ID_HELP, "tag": "lower-case letters, digits and hyphens, up to 40"},
        examples=("!reports tag 12 must-wait",),
    )
    async def reports_tag(self, ctx: CommandContext, id: int, tag: str) -> Reply:
        tag = _tag(tag)
        report = await self._get(ctx, id)
        async with self.core.db.transaction() as tx:
            added = await self.repo.add_tag(report.id, tag, tx=tx)
            if added:
                await self._audit(ctx, "report.tag", report.id, tag, tx=tx)
        if not added:
            return self._reply(ctx, f"Report #{report.id} is already tagged `{tag}`.")
        return self._reply(ctx, f"Tagged report #{report.id} as `{tag}`.")

    @command(
        "reports untag",
        help="Moderators: remove a tag from a report.",
        moderator_only=True,
        args_help={**_ID_HELP, "tag": "the tag to remove"},
    )
    async def reports_untag(self, ctx: CommandContext, id: int, tag: str) -> Reply:
        tag = _tag(tag)
        report = await self._get(ctx, id)
        async with self.core.db.transaction() as tx:
            removed = await self.repo.remove_tag(report.id, tag, tx=tx)
            if removed:
                await self._audit(ctx, "report.untag", report.id, tag, tx=tx)
        if not removed:
            raise UserError(f"Report #{report.id} has no tag `{tag}`.")
        return self._reply(ctx, f"Removed the tag `{tag}` from report #{report.id}.")

    @command(
        "reports note",
        help="Moderators: add a private note to a report.",
        moderator_only=True,
        args_help={**_ID_HELP, "text": "the note, seen only by moderators"},
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
        return self._reply(ctx, f"Added a note to report #{report.id}.")

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
        return self._reply(ctx, f"Report #{report.id} is {status}. Its text will be deleted in {days} days.")

    @command(
        "reports resolve",
        help="Moderators: mark a report dealt with, with an optional note.",
        moderator_only=True,
        args_help={**_ID_HELP, "note": "what was done (optional)"},
    )
    async def reports_resolve(self, ctx: CommandContext, id: int, note: Rest = NO_TEXT) -> Reply:
        return await self._close(ctx, id, "resolved", note)

    @command(
        "reports dismiss",
        help="Moderators: close a report that needs no action, with a reason.",
        moderator_only=True,
        args_help={**_ID_HELP, "reason": "why no action is needed (optional)"},
    )
    async def reports_dismiss(self, ctx: CommandContext, id: int, reason: Rest = NO_TEXT) -> Reply:
        return await self._close(ctx, id, "dismissed", reason)

    @command(
        "reports correct",
        help="Moderators: post a short, sourced correction from a !rights topic where the claim was seen.",
        moderator_only=True,
        args_help={**_ID_HELP, "topic": "a !rights topic, e.g. ehcp"},
        examples=("!reports correct 12 ehcp",),
    )
    async def reports_correct(self, ctx: CommandContext, id: int, topic: Rest) -> Reply:
        p = self.core.prefix
        query = topic.strip()
        if not query:
            raise UsageError(f"Name the `{p}rights` topic to quote, e.g. `{p}reports correct {id} ehcp`.")
        report = await self._get(ctx, id)
        rights = cast("RightsLookup | None", self.core.cogs.get("rights"))
        if rights is None:
            raise UserError(
                f"The `{p}rights` topics aren't loaded on this bot, so I can't post a sourced correction. "
                "You can still reply to the claim yourself and resolve the report."
            )
        found = rights.lookup(query)
        if found is None:
            raise UserError(f"No `{p}rights` topic matches `{_clip_code(query)}`. Try `{p}rights` to see the topics.")
        if not getattr(found, "sources", None):
            raise UserError(f"The topic `{found.id}` has no sources, so it can't be used for a correction.")
        correction = Reply(
            text="ℹ️ The moderators are sharing this because a claim about it was reported here. "
            "Here is what the law and guidance say, with sources:",
            card=rights.topic_card(found),
        )
        if report.channel_is_direct:
            # A report sent by direct message has no public channel to correct in.
            await self._audit(ctx, "report.correct", report.id, f"topic {found.id}, given to the moderator")
            return Reply(
                f"Report #{report.id} came by direct message, so there is no channel to post in. "
                "Here is the correction to share where it is needed:",
                card=correction.card,
                ephemeral=True,
            )
        channel = ChannelRef(report.platform, report.scope_id, report.channel_id)
        try:
            message_id = await self.core.post(channel, correction, nonce=f"report-{report.id}-correction")
        except DeliveryError as e:
            log.warning("report #%d: correction could not be posted: %s", report.id, e)
            raise UserError(f"I couldn't post in {views.where(report)}: {e}. Nothing was recorded.") from None
        async with self.core.db.transaction() as tx:
            await self.repo.record_correction(
                report.id, at=self.core.now(), topic=found.id, message_id=message_id, tx=tx
            )
            await self._audit(ctx, "report.correct", report.id, f"topic {found.id}", tx=tx)
        return self._reply(
            ctx,
            f"Posted the `{found.id}` correction in {views.where(report)}. "
            f"Resolve the report when done: `{p}reports resolve {report.id}`.",
        )

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
        title = f"Reports in the last {_n(days, 'day')}: {len(items)}"
        if not items:
            return self._reply(ctx, card=Card(title=title, body="No reports."))
        return self._reply(ctx, card=summary_card(title, items, prefix=self.core.prefix))

    @command(
        "reports purge-user",
        help="Moderators: delete a member's personal data from reports (reports they made and of their messages).",
        moderator_only=True,
        args_help={"user": "their user id, or a mention"},
    )
    async def reports_purge_user(self, ctx: CommandContext, user: str) -> Reply:
        m = _USER_RE.match(user.strip())
        if not m:
            raise UsageError("Give the member's user id or mention them.")
        user_id = m.group(1) or m.group(2)
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
            return self._reply(ctx, "I have no reports from or about that member in this forum. Nothing was deleted.")
        return self._reply(
            ctx,
            f"Deleted that member's personal data from {_n(made.reports, 'report')} they made and "
            f"{_n(about.reports, 'report')} of their messages (text, ids, names, links and "
            f"{_n(notes, 'note')}). Numbers, dates, status and tags remain as anonymous counts.",
        )


def summary_card(title: str, items: list[Report], *, prefix: str) -> Card:
    by_status: dict[str, int] = {}
    by_source: dict[str, int] = {}
    by_tag: dict[str, int] = {}
    for r in items:
        by_status[r.status] = by_status.get(r.status, 0) + 1
        source = r.source or ("a reported message" if r.kind == "message" else "not said")
        by_source[source] = by_source.get(source, 0) + 1
        for t in r.tags:
            by_tag[t] = by_tag.get(t, 0) + 1
    fields = [
        CardField("By status", _counts(by_status), inline=True),
        CardField("Told by", _counts(by_source), inline=True),
    ]
    if by_tag:
        fields.append(CardField("Most reported claims (tags)", _counts(by_tag, limit=10)))
    clusters = similar_claims([r for r in items if not r.tags and r.text])
    if clusters:
        lines = [
            f"{len(c)}× {views.one_line(c[0].text, 100)} (#{', #'.join(str(r.id) for r in c[:5])})" for c in clusters
        ]
        fields.append(CardField("Similar untagged reports", views.clip("\n".join(lines), views.FIELD_LIMIT)))
    return Card(
        title=title,
        fields=tuple(fields),
        footer=f"Tag reports with {prefix}reports tag <number> <tag> so they count together.",
    )


def similar_claims(reports: list[Report], *, threshold: float = 70.0, limit: int = 5) -> list[list[Report]]:
    """Groups of reports with near-identical wording, largest first (only groups of 2+).

    A greedy pass against each group's first report: cheap enough for the few hundred
    untagged reports a forum sees in a month, and good enough to suggest a tag.
    """
    groups: list[tuple[str, list[Report]]] = []
    for r in reports[:500]:
        key = utils.default_process(r.text or "")
        if not key:
            continue
        for rep, members in groups:
            if fuzz.token_sort_ratio(key, rep) >= threshold:
                members.append(r)
                break
        else:
            groups.append((key, [r]))
    found = [members for _, members in groups if len(members) > 1]
    found.sort(key=len, reverse=True)
    return found[:limit]


def _counts(counts: dict[str, int], limit: int = 20) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return "\n".join(f"{escape(k)}: {v}" for k, v in ordered)


def _tag(raw: str) -> str:
    tag = raw.strip().lower().lstrip("#")
    if not _TAG_RE.match(tag):
        raise UsageError("Tags are lower-case letters, digits and hyphens (up to 40), e.g. `must-wait`.")
    return tag


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _clip_code(s: str) -> str:
    return views.clip(s.replace("`", "'"), 40)


def check(config: Config) -> tuple[list[str], list[str]]:
    """`sendbot check`: duplicate moderator channels are a problem; none at all a warning."""
    problems: list[str] = []
    warnings: list[str] = []
    seen: set[tuple[str, str]] = set()
    for mc in config.reports.moderator_channels:
        key = (mc.platform, mc.scope)
        if key in seen:
            problems.append(f"reports.moderator_channels: {mc.platform} scope {mc.scope} is listed twice")
        seen.add(key)
    if not config.reports.moderator_channels:
        warnings.append(
            "reports.moderator_channels is empty: new reports are not announced (moderators can still use !reports)"
        )
    return problems, warnings


def setup(core: BotCore) -> Cog:
    return ReportsCog(core)
