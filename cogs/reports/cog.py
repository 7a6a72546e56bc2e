"""Misinformation reports: from a parent's report to a moderator's sourced correction.

Forums ask parents to say when a school or service tells them something has "already
changed", so that misinformation is caught early. Parents use `!report` (or a platform's
"Report misinformation" message action); moderators triage with `!reports ...` and answer
with a correction quoted from a `!rights` topic, never from the reporter.

`ReportsCog` is composed of one mixin per reason to change (base.py says how):
parents.py (the parents' commands), queue.py (the moderators' commands), corrections.py
(`!reports correct` and the outcome notice to parents), announcer.py (the
moderators' notices, retries and retractions) and retention.py (the maintenance run and the
`sendbot check` rule). This module holds only what ties them together: the shared state,
the settings and the lifecycle hooks.
"""

from __future__ import annotations

import asyncio
import logging

from bot.cog import Cog
from bot.core import BotCore
from cogs.reports.announcer import AnnouncerMixin, forum_settings
from cogs.reports.corrections import CORRECT_CANCEL, CORRECT_CONFIRM, CORRECT_PREVIEW, CorrectionsMixin
from cogs.reports.parents import NOTIFY_ACTION, ParentsMixin
from cogs.reports.queue import QueueMixin
from cogs.reports.retention import RetentionMixin, check
from cogs.reports.settings import ReportsSettings
from storage.reports import ReportsRepo

log = logging.getLogger(__name__)

# Re-exported: cogs/reports/__init__.py takes `check` from here, as it always has.
__all__ = ["ReportsCog", "check", "setup"]

DRAIN_TIMEOUT = 10.0  # seconds announcements in flight may take to finish at shutdown


class ReportsCog(ParentsMixin, QueueMixin, CorrectionsMixin, AnnouncerMixin, RetentionMixin):
    name = "reports"
    description = "Report misinformation; moderators triage and correct it."

    def __init__(self, core: BotCore) -> None:
        super().__init__(core)
        self.repo = ReportsRepo(core.db)
        # Typed in base.py, where the mixins see them.
        self._pending = set()  # announcements in flight
        self._announcing = set()  # reports whose first announcement is running
        core.dispatcher.register_action("report_message", self.report_message)
        # What the buttons under a correction's preview and a parent's receipt do (corrections.py,
        # parents.py); bot/choices.py keeps what each pressed button means.
        core.dispatcher.register_choice(CORRECT_PREVIEW, self._preview_chosen)
        core.dispatcher.register_choice(CORRECT_CONFIRM, self._confirm_correction)
        core.dispatcher.register_choice(CORRECT_CANCEL, self._cancel_correction)
        core.dispatcher.register_choice(NOTIFY_ACTION, self._ask_for_outcome)
        # The forum settings this cog reads (`!settings`), their defaults from [reports].
        for definition in forum_settings(self):
            core.forum_settings.define(definition)

    @property
    def settings(self) -> ReportsSettings:
        return self.core.config.section(ReportsSettings)

    # -- lifecycle -------------------------------------------------------------------

    async def on_start(self) -> None:
        if self.core.serving:
            self.core.supervise(self._maintenance_loop, name="reports-maintenance")

    async def on_stop(self) -> None:
        # Let announcements in flight finish (core.stop cancels tasks next); any cut short
        # stay "pending" in storage and are retried on the next run.
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await self.drain()
        except TimeoutError:
            log.warning("%d report announcement(s) still in flight at shutdown; retried next run", len(self._pending))

    async def on_platform_ready(self, platform: str) -> None:
        # Announcements and receipts cut off by a crash or waiting for this platform go now,
        # not at the next hourly maintenance run.
        if self.core.serving:
            await self.retry_announcements(platform)
            await self.retry_receipts(platform)


def setup(core: BotCore) -> Cog:
    return ReportsCog(core)
