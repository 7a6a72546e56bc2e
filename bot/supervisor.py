"""Background loops that cannot die quietly: a crash is logged with its traceback, the loop is
started again after a growing pause, and its state is kept where commands (`!feeds status`)
and health checks can read it.

A cancelled task whose own cancellation was not asked for (a CancelledError raised from inside,
as a killed process pool can cause) counts as a crash: only a real cancellation, at shutdown,
ends a supervised loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0  # seconds before the first restart
BACKOFF_MAX = 300.0  # the pause doubles after each crash, up to this
HEALTHY_AFTER = 600.0  # a loop that ran this long before crashing starts the pauses again

LoopState = Literal["running", "restarting", "stopped"]


@dataclass
class LoopStatus:
    name: str
    state: LoopState
    since: datetime  # when the state began
    restarts: int = 0
    last_error: str | None = None  # "ExceptionType: message", clipped
    last_crash_at: datetime | None = None
    # When the loop last finished a unit of work (a feed poll cycle), if it reports one.
    last_success: datetime | None = None


async def run_supervised(
    status: LoopStatus,
    factory: Callable[[], Coroutine[Any, Any, Any]],
    now: Callable[[], datetime],
    *,
    first: float = BACKOFF_FIRST,
    most: float = BACKOFF_MAX,
) -> None:
    """Run `factory()` until it returns (the loop chose to stop) or this task is cancelled;
    restart it after each crash."""
    delay = first
    while True:
        started = time.monotonic()
        try:
            await factory()
        except asyncio.CancelledError as e:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                status.state, status.since = "stopped", now()
                raise
            crash: BaseException = e
        except Exception as e:
            crash = e
        else:
            status.state, status.since = "stopped", now()
            return
        if time.monotonic() - started >= HEALTHY_AFTER:
            delay = first
        status.restarts += 1
        status.last_error = f"{type(crash).__name__}: {crash}"[:300]
        status.last_crash_at = now()
        status.state, status.since = "restarting", now()
        log.error("background loop %s crashed; starting it again in %.0f s", status.name, delay, exc_info=crash)
        await asyncio.sleep(delay)
        delay = min(delay * 2, most)
        status.state, status.since = "running", now()
