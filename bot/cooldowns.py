"""Per-user command cooldowns: a sliding window of recent uses, kept in memory.

In memory is enough here: a cooldown only smooths bursts. Limits that must survive a
restart (such as reports per day) are counted from storage by the cog that owns them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Cooldowns:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._uses: dict[tuple[str, ...], deque[float]] = {}

    def hit(self, key: tuple[str, ...], uses: int, per: float) -> float:
        """Record a use; return 0 if allowed, else the seconds until one is allowed."""
        now = self._clock()
        window = self._uses.setdefault(key, deque())
        while window and now - window[0] >= per:
            window.popleft()
        if len(window) >= uses:
            return per - (now - window[0])
        window.append(now)
        if len(self._uses) > 10_000:  # bound memory against many one-off users
            self._prune(now, per)
        return 0.0

    def _prune(self, now: float, per: float) -> None:
        for k in [k for k, w in self._uses.items() if not w or now - w[-1] >= per]:
            del self._uses[k]
