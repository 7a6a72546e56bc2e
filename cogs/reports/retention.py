"""Retention and maintenance: the hourly run that erases the text of closed reports after
`retention_days` and retries announcements and receipts; and the `sendbot check` rule for
the `[reports]` section.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.config import Config
from cogs.reports.base import ReportsBase
from cogs.reports.settings import ReportsSettings
from storage.reports import EraseCounts

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL = 3600.0  # seconds between retention runs (and announcement retries)
MAINTENANCE_LEASE = "reports-maintenance"
MAINTENANCE_LEASE_TTL = timedelta(seconds=MAINTENANCE_INTERVAL * 1.5)


class RetentionMixin(ReportsBase):
    """The background maintenance run (started by `ReportsCog.on_start` when serving)."""

    async def _maintenance_loop(self) -> None:
        while True:
            try:
                # Once per interval across instances (issue 15): the holder of the lease runs
                # it and keeps the lease past its next run, so others skip while it lives; if
                # it dies, another takes over once the lease has run out.
                async with self.core.leases.held(MAINTENANCE_LEASE, MAINTENANCE_LEASE_TTL, release=False) as mine:
                    if mine:
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


def check(config: Config) -> tuple[list[str], list[str]]:
    """`sendbot check`: duplicate moderator channels are a problem; none at all a warning."""
    problems: list[str] = []
    warnings: list[str] = []
    seen: set[tuple[str, str]] = set()
    channels = config.section(ReportsSettings).moderator_channels
    for mc in channels:
        key = (mc.platform, mc.scope)
        if key in seen:
            problems.append(f"reports.moderator_channels: {mc.platform} scope {mc.scope} is listed twice")
        seen.add(key)
    if not channels:
        warnings.append(
            "reports.moderator_channels is empty: new reports are announced only in forums whose moderators"
            " chose a channel with `!settings set moderators-channel` (moderators can still use !reports)"
        )
    return problems, warnings
