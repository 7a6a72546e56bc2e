"""Corrections: `!reports correct`, its choices of topic, the private preview and the confirm
(a button, or the word `confirm` typed after the preview), and the outcome notice a parent who
asked is sent (`_tell_reporter`, also used when a report is resolved or dismissed).

Split from queue.py (issue 12) because this flow changes for its own reasons: what a correction
may quote and how it is confirmed, not how moderators triage the queue.

Corrections quote a `!rights` topic, never the reporter, chosen by its exact id: free text only
lists close topics, and the moderator sees the card privately and confirms before it is posted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, cast

from bot.choices import Option
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.errors import UsageError, UserError
from bot.markup import escape
from bot.messenger import DeliveryError
from bot.model import Card, ChannelRef, Reply
from cogs.reports import views
from cogs.reports.base import ID_HELP, ReportOutcome, ReportsBase
from storage.reports import Report

log = logging.getLogger(__name__)


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


class CorrectionsMixin(ReportsBase):
    """`!reports correct`, its buttons, and telling the parent the outcome."""

    @command(
        "reports correct",
        help="Moderators: post a sourced correction from a !rights topic where the claim was seen.\n"
        "Give the topic's id (`!rights` lists them). You see the card first, only you, and then confirm.",
        moderator_only=True,
        args_help={
            **ID_HELP,
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
        done. Either can be reopened first if that was a mistake. A report gets one correction:
        a second would post the card again where the claim was seen, and tell the parent again."""
        again = f"`{self.core.prefix}reports reopen {report.id}`"
        if report.corrected_at:
            topic = f" (`{report.correction_topic}`)" if report.correction_topic else ""
            raise UserError(
                f"Report #{report.id} already has a correction{topic}, so I won't post another. Nothing changed. "
                f"`{self.core.prefix}reports show {report.id}` shows it."
            )
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
        return await self._reply(
            ctx,
            f"Posted the `{found.id}` correction in {views.where(report)}. "
            f"Resolve the report when done: `{p}reports resolve {report.id}`.{told}",
        )

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


def _clip_code(s: str) -> str:
    return views.clip(s.replace("`", "'"), 40)
