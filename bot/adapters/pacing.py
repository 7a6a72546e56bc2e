"""A rate pacer for a platform's shared limit (Discord's 50 requests/s per bot token, Slack's
workspace-wide posting rate): calls are spread evenly so the limit is never reached, rather
than sent in bursts until the platform answers 429.

A leaky bucket (aiolimiter) drains at `SAFETY` x the platform's rate, so calls go about
1/rate apart. It holds as many calls as the 5% spare allows (two at Discord's 50/s, one at
lower rates), so a late wake-up can be caught up while no one-second window ever holds more
than the rate, with some room for jitter on the way to the platform. `hold(seconds)`
is for a 429 that came anyway: nothing more goes until the platform's Retry-After has passed.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from aiolimiter import AsyncLimiter

# Paced a little under the platform's limit: requests do not reach the platform exactly as
# spaced (scheduling, the network), and a 429 costs far more than 5%.
SAFETY = 0.95


class RatePacer:
    def __init__(self, rate: float, *, safety: float = SAFETY) -> None:
        """`rate`: the platform's limit, in calls per second."""
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate")
        self.rate = rate * safety
        self.burst = max(1, int(rate - self.rate))
        self._limiter = AsyncLimiter(self.burst, self.burst / self.rate)
        self._hold_until = 0.0

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self._hold_until - loop.time()
        while wait > 0:  # a later 429 may lengthen the hold meanwhile
            await asyncio.sleep(wait)
            wait = self._hold_until - loop.time()
        await self._limiter.acquire()

    def hold(self, seconds: float) -> None:
        """The platform said "not before `seconds`": no call goes until then."""
        until = asyncio.get_running_loop().time() + max(0.0, seconds)
        self._hold_until = max(self._hold_until, until)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None
