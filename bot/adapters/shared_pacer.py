"""A rate pacer shared by every instance using one bot token (issue 15), kept in the database.

Three instances each pacing themselves at Discord's 50 requests/s would together send 150/s
and draw 429s. With `shared_rate_budget = true` ([discord] or [slack]) each call reserves
the next free slot in the `rate_budget` row for the token (storage/rate_budget.py: GCRA,
one statement per call, so instances never get the same slot) and waits for it. Slots are
evenly spaced at SHARED_SAFETY x the platform's rate with no catching up after an idle spell, so
together the instances stay under the limit. A 429 that comes anyway holds every instance
(`hold` moves the shared row on), not only the one that met it.

The in-memory `RatePacer` (pacing.py) stays the default: with SQLite there is one instance,
and it needs no database round trip per call. Times are the wall clock (the instances share
it, not an event loop); the row's key is a hash of the token, never the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.adapters.pacing import Pacer, RatePacer
from bot.messenger import NotSent
from storage.handle import Database
from storage.rate_budget import RateBudget, budget_key

log = logging.getLogger(__name__)

_US = 1_000_000
# Further under the limit than one process's pacer (SAFETY, 0.95): calls from several
# processes reach the platform with more jitter between their slot and their arrival, and
# bunch. Measured (python -m bench.instances, three instances on two busy cores): at 0.95 a
# few global 429s per 400 posts; at 0.9 none.
SHARED_SAFETY = 0.9


class SharedRatePacer:
    def __init__(
        self,
        budget: RateBudget,
        rate: float,
        *,
        safety: float = SHARED_SAFETY,
        stopping: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate")
        self.budget = budget
        self.rate = rate * safety
        self.interval_us = max(1, round(_US / self.rate))
        self._stopping = stopping
        self._clock = clock
        self._sleep = sleep
        self._hold_until = 0.0  # a 429 seen here: nothing more from this instance until then
        self._holds: set[asyncio.Task[None]] = set()

    async def acquire(self, *, may_give_up: bool = True) -> None:
        """Reserve this call's slot in the shared budget and wait for it. When the bot is
        stopping, a call that would wait gives up with NotSent (as RatePacer's do), unless
        `may_give_up` is false."""
        now = self._clock()
        if now < self._hold_until:
            if may_give_up and self._stopping():
                raise NotSent("the bot is stopping; not sent")
            await self._sleep(self._hold_until - now)
            now = self._clock()
        slot = await self.budget.reserve(int(now * _US), self.interval_us) / _US
        wait = slot - self._clock()
        if wait > 0:
            if may_give_up and self._stopping():
                raise NotSent("the bot is stopping; not sent")
            await self._sleep(wait)

    def hold(self, seconds: float) -> None:
        """The platform said "not before `seconds`": this instance waits, and the shared slot
        moves on so the other instances wait too (written in the background)."""
        until = self._clock() + max(0.0, seconds)
        self._hold_until = max(self._hold_until, until)
        task = asyncio.get_running_loop().create_task(self._hold(until), name="shared-rate-hold")
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    async def _hold(self, until: float) -> None:
        with contextlib.suppress(Exception):  # this instance holds anyway; others may meet a 429
            await self.budget.hold(int(until * _US))


def make_pacer(
    db: Database, platform: str, token: str, rate: float, *, shared: bool, stopping: Callable[[], bool]
) -> Pacer | None:
    """The pacer for a platform's shared limit: None when unpaced (rate 0), the database's
    shared budget when configured, else the in-memory RatePacer."""
    if rate <= 0:
        return None
    if shared:
        return SharedRatePacer(RateBudget(db, budget_key(platform, token)), rate, stopping=stopping)
    return RatePacer(rate, stopping=stopping)
