"""The parents' side of reports: `!report`, the "Report misinformation" message action
(`report_message`), `!myreports` and `!forgetme`, with the daily limit and the confirmation.

Privacy shapes the flow: report text is redacted before it is stored, the command message
is removed from public channels, and the reporter's identity is kept only so they can list
and delete their reports. PRIVACY.md lists every field.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Literal

from bot.choices import Option
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.errors import UsageError, UserError
from bot.model import Reply, ReportedMessage
from cogs.reports import views
from cogs.reports.base import ReportsBase
from cogs.reports.redact import redact
from cogs.reports.who import SOURCES, read_who
from storage.reports import NewReport, iso

log = logging.getLogger(__name__)

MY_REPORTS_SHOWN = 20
# The receipt's "Tell me what happens" button (bot/choices.py keeps which report it is for).
NOTIFY_ACTION = "reports.notify"
NOTIFY_BUTTON_TTL = timedelta(days=1)
NOTIFY_LABEL = "Tell me what happens"
# `notify=yes` typed after `who=`: read_who gives back the typed text, option and all.
_NOTIFY_OPTION_RE = re.compile(r"(?i)(?<!\S)notify=\S*")

# A link we will put inside [label](url): web addresses only, nothing that could close the
# parenthesis or carry markup.
_LINK_RE = re.compile(r"^https?://[^\s()<>\[\]`*_|]{1,500}$")


class ParentsMixin(ReportsBase):
    """What any member can do: report, see their reports, and have them forgotten."""

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

    def _confirmation(
        self, ctx: CommandContext, report_id: int, removed: str, *, own_words: bool = True, notify: bool = False
    ) -> Reply:
        """The receipt. `removed` is what redaction took out, in plain words ("a phone number
        and a date of birth"), or "". `own_words`: the parent wrote the text (not a reported
        message), so they are asked to leave names out next time. `notify`: they asked to be
        told the outcome; otherwise the receipt offers a button to ask."""
        p = self.core.prefix
        text = (
            f"✅ Thank you. Your report is **#{report_id}**. The moderators will look at it. "
            f"They may post a correction with sources. See how it is going with `{p}myreports`."
        )
        if removed:
            text += f"\nTo keep you safe, I removed {removed} before saving it."
        if own_words:
            text += "\nPlease don't put names in reports: not yours, your child's or anyone else's."
        if notify:
            text += "\nI will send you a private message when the moderators deal with it."
            return Reply(text, ephemeral=True)
        text += (
            f"\nWould you like a private message when the moderators deal with it? Press **{NOTIFY_LABEL}**. "
            f"(Or add `notify=yes` to your next `{p}report`.)"
        )
        choices = self.core.choices.offer(
            ctx.author, [Option(NOTIFY_ACTION, NOTIFY_LABEL, report_id, "primary")], ttl=NOTIFY_BUTTON_TTL
        )
        return Reply(text, ephemeral=True, choices=choices)

    async def _ask_for_outcome(self, ctx: CommandContext, report_id: int) -> Reply:
        """The receipt's button: the parent will be told what the moderators do."""
        if not await self.repo.ask_for_outcome(report_id, ctx.author.platform, ctx.author.id):
            raise UserError(
                f"I can't do that for report #{report_id} now. The moderators may have dealt with it already: "
                f"`{self.core.prefix}myreports` shows what happened."
            )
        report = await self.repo.get(report_id)  # theirs: ask_for_outcome checked
        if report is not None and report.corrected_at:
            # Closing a corrected report sends nothing more (one message a report): say it now.
            where = "" if report.channel_is_direct else f" in {views.where(report)}"
            return Reply(
                f"Thank you. The moderators have already posted a correction about report #{report_id}{where}. "
                f"`{self.core.prefix}myreports` shows it.",
                ephemeral=True,
            )
        return Reply(
            f"Thank you. I will send you a private message when the moderators deal with report #{report_id}.",
            ephemeral=True,
        )

    @command(
        "report",
        help="Tell the moderators about something you were told that may be wrong: `!report the school said …`\n"
        "Only the moderators see it. In a public channel your message is removed.\n"
        "Please don't put names in it. I remove phone numbers, emails, addresses, postcodes, "
        'dates of birth, NHS and National Insurance numbers, and a name after "my son" or "my daughter".\n'
        "Add `notify=yes` to get a private message when the moderators deal with it.",
        args_help={
            "text": "what you were told, in your own words",
            "who": "who told you: school, SENCO, head teacher, council, LA, NHS, GP, CAMHS or other",
            "notify": "yes, to get a private message when the moderators deal with it",
        },
        examples=(
            "!report school said EHCPs are being abolished this year who=school",
            "!report we were told to wait a year for an assessment who=council notify=yes",
        ),
        private_input=True,
        autocomplete={"who": "complete_who"},
    )
    async def report(self, ctx: CommandContext, text: Rest, *, who: str | None = None, notify: bool = False) -> Reply:
        # private_input=True has already asked the adapter to remove the parent's message in
        # a public channel, even if the report is refused below.
        p = self.core.prefix
        claim = text.strip()
        if not claim:
            raise UsageError(
                f"Tell me what you were told, for example `{p}report the school said we must wait a year`."
            )
        source = None
        if who is not None:
            # What was typed, when it was typed as text (`!report`, Slack's `/report`): a
            # Discord slash command's options arrive whole, so there is nothing to look ahead to.
            typed = ctx.incoming.text if ctx.incoming.text.startswith(p) else ""
            source, claim = read_who(typed, claim, who, prefix=p)
            if typed and _NOTIFY_OPTION_RE.search(claim):
                claim = re.sub(r" {2,}", " ", _NOTIFY_OPTION_RE.sub("", claim)).strip()
            if not claim:
                raise UsageError(f"Tell me what you were told, as well as who told you: `{p}report <what> who={who}`.")
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
            source=source,
            notify=notify,
        )
        report_id = await self._store(ctx, new)
        return self._confirmation(ctx, report_id, red.kinds(), notify=notify)

    async def complete_who(self, partial: str) -> list[tuple[str, str]]:
        """Slash-command suggestions for `who`: the first few words of each source, then the
        words that start with what has been typed."""
        key = partial.strip().lower()
        if not key:
            words = [w for words in SOURCES.values() for w in words[:3]]
        else:
            words = [w for words in SOURCES.values() for w in words if w.lower().startswith(key)]
        return [(w, w) for w in words[:25]]

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
        return self._confirmation(ctx, report_id, red.kinds(), own_words=False)

    @command("myreports", help="Your own reports and what has happened to them (only you see this).")
    async def myreports(self, ctx: CommandContext) -> Reply:
        reports = await self.repo.for_reporter(ctx.author.platform, ctx.author.id, limit=MY_REPORTS_SHOWN + 1)
        card = views.my_reports_card(
            reports[:MY_REPORTS_SHOWN],
            more=len(reports) > MY_REPORTS_SHOWN,
            prefix=self.core.prefix,
            tz=await self.core.tz_for(ctx.place.platform, ctx.place.scope_id),
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
                f"You have {views.plural(reports, 'report')} stored. `{p}forgetme confirm` will delete, for each one: "
                "what you wrote (or the message you reported, its author and link), your user id, "
                f"and the moderators' notes on it ({views.plural(notes, 'note')}). "
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
            f"Done. I deleted the text, your user id and {views.plural(counts.notes, 'moderator note')} "
            f"from {views.plural(counts.reports, 'report')}. They no longer show in `{p}myreports`.",
            ephemeral=True,
        )
