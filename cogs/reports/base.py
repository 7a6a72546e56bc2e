"""The base the parts of the reports cog share: its state, and what one part calls in another.

`ReportsCog` (cog.py) is composed from mixins, one per reason to change: parents.py,
queue.py, corrections.py, announcer.py and retention.py (the pattern Red-DiscordBot uses for big cogs). Each
mixin derives from `ReportsBase`, so mypy checks a call from one part into another against the
abstract declaration here, and the composed cog cannot be built if a part is missing one.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any, Literal

from bot.cog import Cog
from bot.context import CommandContext
from bot.model import Actor, Card, ChannelRef, Reply
from cogs.reports.settings import ReportsSettings
from storage.reports import EraseCounts, Report, ReportsRepo

# Shared by queue.py and corrections.py: what a parent who asked is told happened.
ReportOutcome = Literal["resolved", "dismissed", "corrected"]
ID_HELP = {"id": "the report's number, from `!reports`"}


class ReportsBase(Cog, ABC):
    """State set by `ReportsCog.__init__`, and the methods the mixins call across parts."""

    repo: ReportsRepo
    _pending: set[asyncio.Task[Any]]  # announcements in flight (drained at shutdown)
    _announcing: set[int]  # reports whose first announcement is running

    @property
    @abstractmethod
    def settings(self) -> ReportsSettings:
        """The `[reports]` config section (cog.py)."""

    # -- announcer.py ------------------------------------------------------------------

    @abstractmethod
    async def moderator_channel(self, platform: str, scope_id: str) -> ChannelRef | None:
        """The moderators' channel of a Discord server or Slack workspace (`!settings`, else config)."""

    @abstractmethod
    async def show_reporter(self, platform: str, scope_id: str) -> bool:
        """Whether this forum's moderators see who made a report (`!settings`, else config)."""

    @abstractmethod
    def _schedule_announce(self, report_id: int, reporter: Actor) -> None:
        """Announce a new report in the background."""

    @abstractmethod
    async def _after_erasure(self, *erased: EraseCounts) -> None:
        """Take down announcements that quoted erased text, and checkpoint the database."""

    @abstractmethod
    async def retry_announcements(self, platform: str | None = None) -> int:
        """Announce reports whose announcement failed or never ran."""

    @abstractmethod
    async def retry_receipts(self, platform: str) -> int:
        """Send the receipts a crash cut off."""

    # -- queue.py ----------------------------------------------------------------------

    @abstractmethod
    async def _reply(self, ctx: CommandContext, text: str = "", *, card: Card | None = None) -> Reply:
        """A moderator's answer, public only in the moderators' channel or a DM."""

    @abstractmethod
    async def _get(self, ctx: CommandContext, report_id: int) -> Report:
        """This forum's report `report_id`, or a UserError."""

    @abstractmethod
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
        """Record a moderator action in the audit log."""

    # -- corrections.py ----------------------------------------------------------------

    @abstractmethod
    async def _tell_reporter(self, report: Report, outcome: ReportOutcome, *, card: Card | None = None) -> str:
        """Tell the parent the outcome if they asked; what the moderator should know about it."""
