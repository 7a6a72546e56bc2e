"""Announcing new reports in the moderators' channel, retrying announcements and receipts a
failure or a crash cut off, and retracting announcements that quoted erased text.

A failure here never loses a report: the outcome is recorded in storage and the background
maintenance run (retention.py) or the platform's next connect (cog.py) tries again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.forum_settings import NO, YES, SettingDef
from bot.messenger import DeliveryError
from bot.model import Actor, ChannelRef, Reply
from cogs.reports import views
from cogs.reports.base import ReportsBase
from storage.reports import EraseCounts

log = logging.getLogger(__name__)

MODERATORS_CHANNEL = "moderators-channel"
SHOW_REPORTER = "show-reporter"
ANNOUNCE_MAX_ATTEMPTS = 5
ANNOUNCE_RETRY_AFTER = timedelta(minutes=2)
RECEIPT_GRACE = timedelta(seconds=30)
ANNOUNCE_LEASE = "reports-announcements"
ANNOUNCE_LEASE_TTL = timedelta(minutes=2)  # renewed while the retries run


def forum_settings(cog: ReportsBase) -> list[SettingDef]:
    """The per-forum settings this cog reads; `[reports]` gives their defaults."""

    def channel_default(platform: str, scope_id: str) -> str | None:
        for mc in cog.settings.moderator_channels:
            if mc.platform == platform and mc.scope == scope_id:
                return mc.channel
        return None

    return [
        SettingDef(
            MODERATORS_CHANNEL,
            "channel",
            "where new reports are announced to moderators",
            channel_default,
            lambda _p: "no channel, so new reports are not announced (see them with !reports)",
            private=True,  # reports are shown there, and moderators' answers are public there
        ),
        SettingDef(
            SHOW_REPORTER,
            "yesno",
            "whether moderators see who made each report",
            lambda _p, _s: YES if cog.settings.show_reporter_to_moderators else NO,
        ),
    ]


class AnnouncerMixin(ReportsBase):
    """The moderators' notices and the parents' late receipts."""

    async def moderator_channel(self, platform: str, scope_id: str) -> ChannelRef | None:
        channel = await self.core.forum_settings.value(platform, scope_id, MODERATORS_CHANNEL)
        return None if channel is None else ChannelRef(platform, scope_id, channel)

    async def show_reporter(self, platform: str, scope_id: str) -> bool:
        return await self.core.forum_settings.flag(platform, scope_id, SHOW_REPORTER)

    async def drain(self) -> None:
        """Wait for announcements in flight (tests use this instead of sleeping)."""
        while self._pending:
            batch = set(self._pending)
            await asyncio.wait(batch)
            self._pending -= batch

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
        channel = await self.moderator_channel(report.platform, report.scope_id)
        if channel is None:
            # INFO, not WARNING: `sendbot check` warns when no moderators' channel is set at
            # all, `!reports show` says the report was not announced, and on the console a
            # warning per report would interrupt the conversation.
            log.info(
                "report #%d: no moderators' channel for %s/%s (!settings, [reports] moderator_channels);"
                " moderators will see it in !reports",
                report.id,
                report.platform,
                report.scope_id,
            )
            await self.repo.set_announce(report.id, "unrouted")
            return
        shown: str | None = None
        if await self.show_reporter(report.platform, report.scope_id):
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
            if not await self.repo.record_announced(report.id, message_id, channel.channel_id):
                # Erased (!forgetme, a purge) while the notice was on its way: take it down.
                log.info("report #%d: erased while announced; removing the notice", report.id)
                if message_id:
                    notice = (report.id, report.platform, report.scope_id, message_id, channel.channel_id)
                    await self._retract(EraseCounts(0, 0, (notice,)))

    async def retry_announcements(self, platform: str | None = None) -> int:
        """Announce reports whose first announcement failed or never ran; one cut off mid-send
        goes as unsure (Slack looks in history first; Discord's nonce returns the first post).
        One instance at a time (a lease, issue 15): another finds the work done, or skips."""
        async with self.core.leases.held(ANNOUNCE_LEASE, ANNOUNCE_LEASE_TTL) as mine:
            if not mine:
                return 0
            due = await self.repo.unannounced(
                created_before=self.core.now() - ANNOUNCE_RETRY_AFTER,
                max_attempts=ANNOUNCE_MAX_ATTEMPTS,
                platform=platform,
            )
            for report in due:
                if report.id in self._announcing:
                    continue  # its first try is still running
                await self._announce(report.id, None)
            return len(due)

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
            for report_id, platform, scope_id, message_id, posted_in in counts.announcements:
                # Where it was posted; the forum may have chosen another channel since.
                channel = (
                    ChannelRef(platform, scope_id, posted_in)
                    if posted_in
                    else await self.moderator_channel(platform, scope_id)
                )
                messenger = self.core.messengers.get(platform)
                if channel is None or messenger is None:
                    log.warning("report #%d: cannot remove its announcement now (no channel or adapter)", report_id)
                    continue
                try:
                    await messenger.delete(channel, message_id)
                except Exception as e:
                    log.warning("report #%d: could not remove its announcement (%s)", report_id, type(e).__name__)
