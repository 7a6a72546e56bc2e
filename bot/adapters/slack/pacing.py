"""Per-channel pacing for Slack posts: about one message per second per channel.

Slack allows roughly one chat.postMessage per second per channel (short bursts are
tolerated) and answers 429 with Retry-After beyond that. Posting through a pacer keeps a
burst of feed items from tripping the limit at all, and a 429 holds the whole channel,
not just the one call, for the time Slack asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ChannelPacer:
    def __init__(self, interval: float = 1.0, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Wait for this channel's turn; the next turn is `interval` after this one ends."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            wait = self._next.get(key, 0.0) - self._clock()
            if wait > 0:
                await self._sleep(wait)
            try:
                yield
            finally:
                self._next[key] = max(self._next.get(key, 0.0), self._clock() + self.interval)
                self._forget_idle()

    def hold(self, key: str, seconds: float) -> None:
        """Slack said "not before `seconds`": no post to this channel until then."""
        self._next[key] = max(self._next.get(key, 0.0), self._clock() + max(0.0, seconds))

    def _forget_idle(self) -> None:
        # Channels quiet for longer than their pause need no entry; keeps the maps small.
        if len(self._next) < 1024:
            return
        now = self._clock()
        for key in [k for k, t in self._next.items() if t < now]:
            lock = self._locks.get(key)
            if lock is None or not lock.locked():
                self._next.pop(key, None)
                self._locks.pop(key, None)
