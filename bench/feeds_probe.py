"""bench.feeds' measuring: event-loop lag, command latency and memory while a cycle runs.

`measured(fn, core)` runs `fn` with a Probe beside it: the loop's lag (how late a 5 ms sleep
wakes), `!help` every 50 ms, the command mix that reads the database, and the proportional
set size (PSS) of the bot and its parser workers every 200 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core import BotCore
from bot.model import Actor, Incoming, Place

PROBE_INTERVAL = 0.005
FIRST_COMMAND_AFTER = 0.02
COMMAND_EVERY = 0.05
# The mix of commands that read the database, dispatched in turn (moderator commands too).
COMMAND_MIX = ("!help", "!myreports", "!feeds list", "!feeds status")


@dataclass
class Probe:
    """Event-loop lag (sleep overshoot) and command latency while a cycle runs."""

    core: BotCore | None = None
    lags: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    db_reads: list[float] = field(default_factory=list)
    mix: list[float] = field(default_factory=list)
    mix_by_command: dict[str, list[float]] = field(default_factory=dict)
    pids: Callable[[], list[int]] = lambda: []
    pss_peak_mb: float = 0.0

    async def pss_loop(self) -> None:
        while True:
            self.pss_peak_mb = max(self.pss_peak_mb, pss_mb("self") + sum(pss_mb(p) for p in self.pids()))
            await asyncio.sleep(0.2)

    async def lag_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(PROBE_INTERVAL)
            self.lags.append(max(0.0, loop.time() - start - PROBE_INTERVAL))

    async def command_loop(self) -> None:
        assert self.core is not None
        author = Actor("console", "bench", "bench", is_moderator=False)
        place = Place("console", "console", "general", "general")
        await asyncio.sleep(FIRST_COMMAND_AFTER)
        while True:
            start = time.perf_counter()
            outcome = await self.core.dispatcher.handle(Incoming("!help", author, place))
            self.commands.append(time.perf_counter() - start)
            assert outcome is not None and outcome.status == "ok"
            # A command that reads storage waits for the feed writes' lock: time that too.
            start = time.perf_counter()
            await self.core.db.fetchone("SELECT COUNT(*) FROM audit_log")
            self.db_reads.append(time.perf_counter() - start)
            await asyncio.sleep(COMMAND_EVERY)

    async def mix_loop(self) -> None:
        assert self.core is not None
        author = Actor("console", "bench-mod", "bench-mod", is_moderator=True)
        place = Place("console", "forum", "general", "general")
        await asyncio.sleep(FIRST_COMMAND_AFTER)
        n = 0
        while True:
            text = COMMAND_MIX[n % len(COMMAND_MIX)]
            n += 1
            start = time.perf_counter()
            outcome = await self.core.dispatcher.handle(Incoming(text, author, place))
            self.mix.append(time.perf_counter() - start)
            self.mix_by_command.setdefault(text, []).append(self.mix[-1])
            assert outcome is not None and outcome.status == "ok", (text, outcome)
            await asyncio.sleep(COMMAND_EVERY)

    @property
    def lag_max_ms(self) -> float:
        return max(self.lags, default=0.0) * 1000

    @property
    def lag_p99_ms(self) -> float:
        if len(self.lags) < 2:
            return self.lag_max_ms
        return statistics.quantiles(self.lags, n=100)[98] * 1000

    @property
    def command_ms(self) -> float:
        return max(self.commands, default=0.0) * 1000

    @property
    def db_ms(self) -> float:
        return max(self.db_reads, default=0.0) * 1000


def p99_ms(samples: list[float]) -> float:
    if len(samples) < 2:
        return max(samples, default=0.0) * 1000
    return statistics.quantiles(samples, n=100)[98] * 1000


async def measured(
    fn: Callable[[], Awaitable[Any]],
    core: BotCore | None,
    *,
    mix: bool = False,
    pids: Callable[[], list[int]] | None = None,
) -> tuple[float, Any, Probe]:
    probe = Probe(core)
    if pids is not None:
        probe.pids = pids
    tasks = [asyncio.create_task(probe.lag_loop()), asyncio.create_task(probe.pss_loop())]
    if core is not None:
        tasks.append(asyncio.create_task(probe.command_loop()))
        if mix:
            tasks.append(asyncio.create_task(probe.mix_loop()))
    await asyncio.sleep(0)
    start = time.perf_counter()
    try:
        result = await fn()
    finally:
        elapsed = time.perf_counter() - start
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return elapsed, result, probe


def pss_mb(pid: int | str = "self") -> float:
    """Proportional set size of a process, in MB: its private memory plus its share of pages
    it shares (with the forkserver's other children, say), so summing processes counts a
    shared page once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def hwm_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
