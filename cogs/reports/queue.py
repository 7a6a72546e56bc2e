"""The moderators' queue: `!reports` (list), `show`, `tag`, `untag`, `note`, `resolve`,
`dismiss`, `reopen`, `correct`, `summary` and `purge-user`.

Every moderator action is audited, in the same transaction as the change it records.
Corrections quote a `!rights` topic, never the reporter, chosen by its exact id: free text only
lists close topics, and the moderator sees the card privately and confirms before it is posted
(buttons, or the word `confirm` typed after the preview). A parent who asked is told the
outcome of their report by private message (`_tell_reporter`).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol, cast

from bot.choices import Option
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.errors import UsageError, UserError
from bot.markup import escape
from bot.messenger import DeliveryError
from bot.model import Card, ChannelRef, Place, Reply
from cogs.reports import views
from cogs.reports.base import ReportsBase
from cogs.reports.redact import redact
from storage.reports import Report

log = logging.getLogger(__name__)

ListStatus = Literal["open", "resolved", "dismissed", "all"]

# The default for optional free text (a module-level constant, as ruff's B008 asks).
NO_TEXT = Rest("")
_ID_HELP = {"id": "the report's number, from `!reports`"}
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


class RightsLookup(Protocol):
    """The part of the rights cog a correction needs (cogs/rights/cog.py)."""

    def topic_by_id(self, topic_id: str) -> Any: ...

    def suggest(self, query: str, limit: int = 5) -> list[Any]: ...

    def topic_card(self, topic: Any) -> Card: ...

    async def complete_topic(self, partial: str) -> list[tuple[str, str]]: ...


# The buttons of a correction (bot/choices.py keeps what each one means, server-side).
CORRECT_PREVIEW = "reports.correct.preview"
CORRECT_CONFIRM = "reports.correct.confirm"
CORRECT_CANCEL = "reports.correct.cancel"
PREVIEW_TTL = timedelta(minutes=10)
MAX_TOPIC_CHOICES = 5

ReportOutcome = Literal["resolved", "dismissed", "corrected"]


@dataclass(frozen=True)
class CorrectionPlan:
    """What a Confirm button posts: kept on the server with the offer, never sent by a client."""

    report_id: int
    platform: str
    scope_id: str
    topic_id: str


def _plan(report: Report, topic_id: str) -> CorrectionPlan:
    return CorrectionPlan(report.id, report.platform, report.scope_id, topic_id)


def _outcome_words(report: Report, outcome: ReportOutcome, prefix: str) -> str:
    """What the parent is told, in plain words."""
    n = f"#{report.id}"
    if outcome == "resolved":
        text = f"Hello. The moderators have dealt with your report {n}. Thank you for telling us about it."
    elif outcome == "dismissed":
        text = (
            f"Hello. The moderators looked at your report {n}. They decided that nothing needs to be done "
            "this time. Thank you for telling us about it."
        )
    elif report.channel_is_direct:
        text = (
            f"Hello. The moderators looked at your report {n}. Here is what the law and guidance say, with the sources:"
        )
    else:
        text = (
            f"Hello. The moderators posted a correction about your report {n} in {views.where(report)}. "
            "Here is what they shared, with the sources:"
        )
    return text + f"\nYou asked me to tell you what happens. `{prefix}myreports` shows all your reports."


class QueueMixin(ReportsBase):
    """The `!reports ...` commands, all moderator-only."""

    def _in_moderator_channel(self, place: Place) -> bool:
        channel = self.moderator_channel(place.platform, place.scope_id)
        return channel is not None and channel.channel_id == place.id

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
        args_help={**_ID_HELP, "tag": "one word: lower-case letters, digits and hyphens, up to 40"},
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
            return self._reply(ctx, f"Report #{report.id} is already tagged `{tag}`.")
        return self._reply(ctx, f"Tagged report #{report.id} as `{tag}`.")

    @command(
        "reports untag",
        help="Moderators: remove a tag from a report.",
        moderator_only=True,
        args_help={**_ID_HELP, "tag": "the tag to remove"},
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
        told = await self._tell_reporter(report, status)
        return self._reply(ctx, f"Report #{report.id} is {status}. Its text will be deleted in {days} days.{told}")

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
        help="Moderators: post a sourced correction from a !rights topic where the claim was seen.\n"
        "Give the topic's id (`!rights` lists them). You see the card first, only you, and then confirm.",
        moderator_only=True,
        args_help={
            **_ID_HELP,
            "topic": "the topic's id, e.g. part-time-timetables (add confirm after you have seen the card)",
        },
        examples=("!reports correct 12 part-time-timetables", "!reports correct 12 part-time-timetables confirm"),
        usage="<id> <topic id> [confirm]",
        autocomplete={"topic": "complete_correction_topic"},
    )
    async def reports_correct(self, ctx: CommandContext, id: int, topic: Rest) -> Reply:
        p = self.core.prefix
        words = topic.split()
        confirm = len(words) > 1 and words[-1].lower() == "confirm"
        query = " ".join(words[:-1] if confirm else words)
        if not query:
            raise UsageError(
                f"Name the topic to quote by its id, e.g. `{p}reports correct {id} part-time-timetables`. "
                f"`{p}rights` lists the topics and their ids."
            )
        report = await self._get(ctx, id)
        self._check_correctable(report)
        rights = self._rights()
        found = rights.topic_by_id(query) if len(query.split()) == 1 else None
        if found is None:
            return self._topic_choices(ctx, report, query, rights)
        plan = _plan(report, found.id)
        if confirm:
            # A typed `confirm` takes the same offer as the Confirm button, so it needs a preview
            # first and cannot post twice.
            offer = self.core.choices.find(ctx.author, CORRECT_CONFIRM, plan)
            if offer is None:
                raise UserError(
                    f"Please look at the card first: `{p}reports correct {report.id} {found.id}` shows it only "
                    "to you. Then confirm within 10 minutes."
                )
            self.core.choices.take(offer.token, ctx.author)
            return await self._post_correction(ctx, plan)
        return self._preview(ctx, report, found, plan)

    async def complete_correction_topic(self, partial: str) -> list[tuple[str, str]]:
        """Slash-command suggestions for the topic: (title, id), as `/rights` offers them."""
        rights = cast("RightsLookup | None", self.core.cogs.get("rights"))
        return await rights.complete_topic(partial) if rights is not None else []

    def _rights(self) -> RightsLookup:
        rights = cast("RightsLookup | None", self.core.cogs.get("rights"))
        if rights is None:
            raise UserError(
                f"The `{self.core.prefix}rights` topics aren't loaded on this bot, so I can't post a sourced "
                "correction. You can still reply to the claim yourself and resolve the report."
            )
        return rights

    def _check_correctable(self, report: Report) -> None:
        """Corrections are for open reports: a dismissed one needed no action, a resolved one is
        done. Either can be reopened first if that was a mistake."""
        again = f"`{self.core.prefix}reports reopen {report.id}`"
        if report.status == "dismissed":
            raise UserError(
                f"Report #{report.id} was dismissed, so I won't post a correction for it. "
                f"If that was a mistake, open it again first: {again}."
            )
        if report.status == "resolved":
            raise UserError(
                f"Report #{report.id} is already resolved, so I won't post a correction for it. "
                f"To post one anyway, open it again first: {again}."
            )

    def _topic_choices(self, ctx: CommandContext, report: Report, query: str, rights: RightsLookup) -> Reply:
        """Free text or an unknown id: the close topics with their ids, to choose from. Nothing
        is posted: pressing one (or typing its id) shows its card first."""
        p = self.core.prefix
        shown = _clip_code(query)
        topics = rights.suggest(query, MAX_TOPIC_CHOICES)
        if not topics:
            raise UserError(
                f"`{shown}` is not a topic id, and no topic is close to it. `{p}rights` lists the topics and their ids."
            )
        lines = [f"`{shown}` is not a topic id, so I won't guess. Is it one of these?"]
        lines += [f"- `{t.id}`: {escape(t.title)}" for t in topics]
        lines.append(
            f"Press one to see its card, or type `{p}reports correct {report.id} <id>`. Nothing has been posted."
        )
        choices = self.core.choices.offer(
            ctx.author, [Option(CORRECT_PREVIEW, t.id, _plan(report, t.id)) for t in topics]
        )
        return Reply("\n".join(lines), ephemeral=True, choices=choices)

    def _preview(self, ctx: CommandContext, report: Report, topic: Any, plan: CorrectionPlan) -> Reply:
        """The exact card, shown only to the moderator, with Confirm and Cancel."""
        p = self.core.prefix
        if not getattr(topic, "sources", None):
            raise UserError(f"The topic `{topic.id}` has no sources, so it can't be used for a correction.")
        rights = self._rights()
        if report.channel_is_direct:
            head = (
                f"Report #{report.id} came by direct message, so there is no channel to post in. "
                "Here is the correction to share where it is needed:"
            )
            how = "Press **Confirm** to record it as corrected"
        else:
            head = (
                f"**Preview, only you can see this.** This is the card I would post in {views.where(report)} "
                f"for report #{report.id}:"
            )
            how = "Press **Confirm** to post it"
        tail = (
            f"{how}, or **Cancel**. No buttons? Type `{p}reports correct {report.id} {topic.id} confirm`. "
            "This runs out in 10 minutes."
        )
        choices = self.core.choices.offer(
            ctx.author,
            [
                Option(CORRECT_CONFIRM, "Confirm", plan, "primary"),
                Option(CORRECT_CANCEL, "Cancel", plan, "secondary"),
            ],
            ttl=PREVIEW_TTL,
        )
        return Reply(f"{head}\n{tail}", card=rights.topic_card(topic), ephemeral=True, choices=choices)

    async def _preview_chosen(self, ctx: CommandContext, plan: CorrectionPlan) -> Reply:
        """A topic pressed in the list of close topics: its preview (nothing is posted yet)."""
        report = await self._planned_report(plan)
        rights = self._rights()
        topic = rights.topic_by_id(plan.topic_id)
        if topic is None:
            raise UserError(f"The topic `{plan.topic_id}` isn't there any more. `{self.core.prefix}rights` lists them.")
        return self._preview(ctx, report, topic, plan)

    async def _cancel_correction(self, ctx: CommandContext, plan: CorrectionPlan) -> Reply:
        return Reply(f"Cancelled. Nothing was posted for report #{plan.report_id}.", ephemeral=True)

    async def _confirm_correction(self, ctx: CommandContext, plan: CorrectionPlan) -> Reply:
        return await self._post_correction(ctx, plan)

    async def _planned_report(self, plan: CorrectionPlan) -> Report:
        report = await self.repo.get(plan.report_id, plan.platform, plan.scope_id)
        if report is None:
            raise UserError(f"Report #{plan.report_id} isn't there any more.")
        self._check_correctable(report)
        return report

    async def _post_correction(self, ctx: CommandContext, plan: CorrectionPlan) -> Reply:
        """Post the confirmed card where the claim was seen, record it and audit it (one
        transaction), and tell the parent if they asked. Everything is read again here: the
        report may have been closed, and only what the server stored says what to post."""
        p = self.core.prefix
        report = await self._planned_report(plan)
        rights = self._rights()
        found = rights.topic_by_id(plan.topic_id)
        if found is None or not getattr(found, "sources", None):
            raise UserError(f"The topic `{plan.topic_id}` can't be used for a correction any more.")
        card = rights.topic_card(found)
        if report.channel_is_direct:
            # A report sent by direct message has no public channel to correct in.
            async with self.core.db.transaction() as tx:
                await self.repo.record_correction(report.id, at=self.core.now(), topic=found.id, message_id=None, tx=tx)
                await self._audit(
                    ctx,
                    "report.correct",
                    report.id,
                    f"topic {found.id}, given to the moderator",
                    tx=tx,
                    scope=plan.scope_id,
                )
            told = await self._tell_reporter(report, "corrected", card=card)
            return Reply(
                f"Recorded the `{found.id}` correction for report #{report.id}. "
                f"Share the card where it is needed.{told}",
                card=card,
                ephemeral=True,
            )
        correction = Reply(
            text="ℹ️ The moderators are sharing this because a claim about it was reported here. "
            "Here is what the law and guidance say, with sources:",
            card=card,
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
            await self._audit(ctx, "report.correct", report.id, f"topic {found.id}", tx=tx, scope=plan.scope_id)
        told = await self._tell_reporter(report, "corrected", card=card)
        return self._reply(
            ctx,
            f"Posted the `{found.id}` correction in {views.where(report)}. "
            f"Resolve the report when done: `{p}reports resolve {report.id}`.{told}",
        )

    @command(
        "reports reopen",
        help="Moderators: open a resolved or dismissed report again (for example, to post a correction).",
        moderator_only=True,
        args_help=_ID_HELP,
    )
    async def reports_reopen(self, ctx: CommandContext, id: int) -> Reply:
        report = await self._get(ctx, id)
        async with self.core.db.transaction() as tx:
            reopened = await self.repo.reopen(report.id, tx=tx)
            if reopened:
                await self._audit(ctx, "report.reopen", report.id, f"was {report.status}", tx=tx)
        if not reopened:
            raise UserError(f"Report #{report.id} is open already.")
        return self._reply(ctx, f"Report #{report.id} is open again.")

    async def _tell_reporter(self, report: Report, outcome: ReportOutcome, *, card: Card | None = None) -> str:
        """Tell the parent what happened, privately, if they asked; what the moderator should
        know about it ("" when the parent did not ask). A message that cannot be delivered is
        logged and the moderator is told: it never stops the moderator's command."""
        if not report.notify_outcome or not report.reporter_id:
            return ""
        reply = Reply(_outcome_words(report, outcome, self.core.prefix), card=card)
        messenger = self.core.messengers.get(report.platform)
        try:
            if messenger is None:
                raise DeliveryError(f"no {report.platform} adapter is running")
            await messenger.send_direct(report.scope_id, report.reporter_id, reply)
        except Exception as e:
            # Neither the parent's id nor the error's text (it may hold the id) is logged.
            log.warning("report #%d: could not tell the reporter the outcome (%s)", report.id, type(e).__name__)
            return (
                " I couldn't send the parent who reported it a private message about this, though they asked "
                f"for one (their messages may be closed). They can still see it with `{self.core.prefix}myreports`."
            )
        return " I told the parent who reported it in a private message, as they asked."

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
            return self._reply(ctx, card=Card(title=title, body="No reports."))
        return self._reply(ctx, card=views.summary_card(title, items, prefix=self.core.prefix))

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
            return self._reply(ctx, "I have no reports from or about that member in this forum. Nothing was deleted.")
        return self._reply(
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


def _clip_code(s: str) -> str:
    return views.clip(s.replace("`", "'"), 40)
