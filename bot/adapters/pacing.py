"""A rate pacer for a platform's shared limit (Discord's 50 requests/s per bot token, Slack's
workspace-wide posting rate): calls are spread evenly so the limit is never reached, rather
than sent in bursts until the platform answers 429.

Calls get evenly spaced slots at `SAFETY` x the platform's rate, in the order they asked
(a FIFO lock). A slot taken late (the event loop was busy) lets the next call follow at once,
so lateness is made up instead of lost, but at most one slot's worth. And no window of
1 s / SAFETY (about 1.05 s) ever holds more calls than the platform allows in one second:
calls may reach the platform up to ~50 ms more bunched than they left here (the event loop,
the network) and still never be over its limit. `hold(seconds)` is for a 429
that came anyway: nothing more goes until the platform's Retry-After has passed.

(aiolimiter's leaky bucket was measured first: holding one call it lost ~6% of the rate to
late wake-ups; holding two it let a one-second window reach the limit, and drew a 429. A
cap of 0.95 x the limit per exact second drew 429s too: calls made up after a late slot
filled windows to the edge, and a millisecond of jitter tipped them over.)
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from typing import Protocol

from bot.messenger import NotSent

# Paced a little under the platform's limit: requests do not reach the platform exactly as
# spaced (scheduling, the network), and a 429 costs far more than 5%.
SAFETY = 0.95
WINDOW = 1.0  # seconds: the platforms state their limits per second
CATCH_UP = 1  # slots a late call may make up: more would send bursts after a stall


class Pacer(Protocol):
    """What a messenger needs of a pacer: RatePacer here, or the SharedRatePacer whose budget
    several instances share (shared_pacer.py)."""

    async def acquire(self, *, may_give_up: bool = True) -> None: ...

    def hold(self, seconds: float) -> None: ...


class RatePacer:
    def __init__(self, rate: float, *, safety: float = SAFETY, stopping: Callable[[], bool] = lambda: False) -> None:
        """`rate`: the platform's limit, in calls per second. Once `stopping()` is true, a call
        that would have to wait raises NotSent instead (see acquire)."""
        self._stopping = stopping
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate")
        self.rate = rate * safety
        self.interval = 1.0 / self.rate
        self.window = WINDOW / safety
        self.window_cap = max(1, math.floor(rate))  # calls in any `window`, at most
        self._lock = asyncio.Lock()
        self._next = 0.0  # the next free slot (event-loop time)
        self._sent: deque[float] = deque()  # when the last window_cap calls went
        self._hold_until = 0.0

    async def acquire(self, *, may_give_up: bool = True) -> None:
        """Wait for this call's slot. When the bot is stopping, a call that would wait gives
        up with NotSent (it was never made), unless `may_give_up` is false: the later parts
        of a post whose first part went out are sent whatever happens."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                slot = max(now, self._next, self._hold_until)
                if len(self._sent) >= self.window_cap:
                    slot = max(slot, self._sent[0] + self.window)
                if slot <= now:
                    break
                if may_give_up and self._stopping():
                    raise NotSent("the bot is stopping; not sent")
                await asyncio.sleep(slot - now)  # then look again: a 429 may have held us
            self._sent.append(now)
            if len(self._sent) > self.window_cap:
                self._sent.popleft()
            # The next slot follows this call's slot, not the moment it was taken, so a late
            # wake-up is made up; but by one slot at most (never a burst after a stall).
            self._next = max(self._next, now - CATCH_UP * self.interval) + self.interval

    def hold(self, seconds: float) -> None:
        """The platform said "not before `seconds`": no call goes until then."""
        until = asyncio.get_running_loop().time() + max(0.0, seconds)
        self._hold_until = max(self._hold_until, until)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        return None
