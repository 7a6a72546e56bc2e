"""Parse feed bytes with feedparser in worker processes, with a time limit per feed.

Parsing a 70 KB feed and converting its HTML costs tens of milliseconds of pure Python:
in the event loop that would stall commands and gateway heartbeats, and threads would
fight over the GIL. A small process pool (pebble's, which kills and replaces one worker at a
time) uses both cores. Two limits, both counted from the moment a worker starts the job,
never while it waits in the queue:
- the worker's own CPU-time limit (`time_limit`): a pathological feed raises in the worker.
  CPU time, not wall time, so a busy machine starving the (low-priority) workers never makes
  a healthy parse look stuck;
- a wall-clock limit (`stuck_after`) for a worker stuck where no signal reaches Python (in C):
  that one worker is killed and replaced; the other jobs carry on.

The parse itself is feeds/entries.py, imported by the workers only: this module (the pool)
loads neither feedparser nor lxml, so the bot's own process stays smaller. The workers, for
their part, do not import the bot's `__main__` (feeds/lean_fork.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import contextlib
import ctypes
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from typing import Any

import pebble

from feeds.lean_fork import lean_forkserver
from feeds.model import ParsedFeed as ParsedFeed
from feeds.model import ParsedItem as ParsedItem
from feeds.model import ParseError as ParseError
from storage.feeds import KnownHashes

log = logging.getLogger(__name__)


def parse_bytes(
    body: bytes,
    base_url: str,
    known: KnownHashes | None = None,
    *,
    text_for_new: bool = True,
    cache: bytes | None = None,
) -> ParsedFeed:
    """Parse in the current process (feeds.entries.parse_bytes, loaded on first use)."""
    from feeds.entries import parse_bytes as parse_here

    return parse_here(body, base_url, known, text_for_new=text_for_new, cache=cache)


class _Alarm(BaseException):
    """BaseException, not Exception: feedparser catches Exception around its strict XML
    parse (and falls back to its loose parser), which would swallow the time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm()


# The worker's CPU-time limit: ITIMER_PROF counts the process's CPU time (user and system)
# and raises SIGPROF when it is used up.
_LIMIT_TIMER = signal.ITIMER_PROF
_LIMIT_SIGNAL = signal.SIGPROF


def _noop(seconds: float) -> None:
    time.sleep(seconds)  # keeps each warm-up job busy long enough that every worker starts


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
ORPHAN_CHECK_SECONDS = 0.5


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when its parent process dies. (The parent is
    the forkserver; it lives while any worker does, so the watch below is what notices the
    bot going: this covers the forkserver itself being killed.)"""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch_parent(parent: int, bot: int, bot_fd: int | None) -> None:
    """Exit once the bot's process has ended (even by kill -9) or this worker has been
    reparented; otherwise an orphaned worker would wait on its task queue for ever, and keep
    the forkserver alive with it. `bot_fd` is a pidfd for the bot, readable once it has
    exited (a zombie not yet reaped counts); without one, the pid is looked at."""
    # The parse time limit's signal must interrupt the main thread, never this one.
    signal.pthread_sigmask(signal.SIG_BLOCK, {_LIMIT_SIGNAL})
    while True:
        if bot_fd is not None:
            ended = bool(select.select([bot_fd], [], [], ORPHAN_CHECK_SECONDS)[0])
        else:
            time.sleep(ORPHAN_CHECK_SECONDS)
            ended = not _alive(bot)
        if ended or os.getppid() != parent:
            os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a killed process is a zombie until its parent reaps it
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)  # the bot is already gone
    except (AttributeError, OSError):
        return None


def _worker_init(bot_pid: int | None = None) -> None:
    # Workers die with the bot, even when it is killed outright (kill -9, the OOM killer):
    # left behind, each idle worker holds its memory for ever.
    parent = os.getppid()
    _die_with_parent()
    bot = bot_pid or parent
    watch = threading.Thread(target=_watch_parent, args=(parent, bot, _pidfd(bot)), name="orphan-check", daemon=True)
    watch.start()
    # Parsing is background work: when the cores are busy, the bot's event loop (commands,
    # gateway heartbeats) should get the CPU first.
    with contextlib.suppress(OSError):
        os.nice(10)
    signal.signal(_LIMIT_SIGNAL, _on_alarm)
    # Workers ignore Ctrl-C; the parent decides when they stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _parse_in_worker(
    body: bytes,
    base_url: str,
    known: KnownHashes,
    limit: float,
    text_for_new: bool = True,
    cache: bytes | None = None,
) -> ParsedFeed:
    from feeds.entries import parse_bytes as parse_here  # preloaded by the forkserver

    # Then every 50 ms of CPU again: one signal can still land where it is swallowed, and
    # a one-shot timer would then never fire again (a flaky, unlimited parse).
    signal.setitimer(_LIMIT_TIMER, limit, 0.05)
    try:
        return parse_here(body, base_url, known, text_for_new=text_for_new, cache=cache)
    except _Alarm:
        raise ParseError(f"parsing took longer than {limit:g} s") from None
    finally:
        signal.setitimer(_LIMIT_TIMER, 0)


class Parser:
    """Owns the process pool. Create once; `close()` at shutdown."""

    def __init__(self, workers: int | None = None, time_limit: float = 10.0, stuck_after: float | None = None) -> None:
        self.workers = workers or min(2, multiprocessing.cpu_count() or 1)
        self.time_limit = time_limit
        # Generous: a worker that has used less CPU than time_limit may just be starved of it.
        self.stuck_after = stuck_after if stuck_after is not None else 3 * time_limit + 10
        self._pool: pebble.ProcessPool | None = None

    def _ensure_pool(self) -> pebble.ProcessPool:
        if self._pool is None or not self._pool.active:
            # forkserver: a fork of this (threaded) process could inherit held locks. Lean:
            # the workers do not import the bot's __main__ (feeds/lean_fork.py).
            self._pool = pebble.ProcessPool(
                max_workers=self.workers,
                initializer=_worker_init,
                initargs=(os.getpid(),),
                context=lean_forkserver(),
            )
        return self._pool

    async def warm(self) -> None:
        """Start every worker now (each start costs the event loop a few milliseconds;
        better at start-up than in the middle of a cycle)."""
        await asyncio.gather(*(self.run(_noop, 0.05) for _ in range(self.workers)))

    def worker_pids(self) -> list[int]:
        manager = getattr(getattr(self._pool, "_pool_manager", None), "worker_manager", None)
        workers = getattr(manager, "workers", None) or {}
        return [proc.pid for proc in list(workers.values()) if proc.pid is not None]

    async def run(self, function: Any, *args: Any) -> Any:
        """Run `function(*args)` in a worker: its result, or ParseError if the worker was stuck
        for `stuck_after` seconds (it is killed and replaced) or died."""
        future = self._ensure_pool().schedule(function, args=args, timeout=self.stuck_after)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            log.warning("a parser worker was stuck for %.0f s; it was replaced", self.stuck_after)
            raise ParseError(f"parsing took longer than {self.time_limit:g} s") from None
        except pebble.ProcessExpired:
            raise ParseError("the parser crashed on this feed") from None
        except concurrent.futures.process.BrokenProcessPool:
            self._pool = None  # made again for the next feed
            raise ParseError("the parser crashed on this feed") from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this task is being cancelled: let it end
            # The job was cancelled under us (the pool went away): this feed's problem only.
            raise ParseError("the parser was restarted; the feed is tried again next cycle") from None

    async def parse(
        self,
        body: bytes,
        base_url: str,
        known: KnownHashes | None = None,
        *,
        text_for_new: bool = True,
        cache: bytes | None = None,
    ) -> ParsedFeed:
        """`cache`: this feed's last ParsedFeed.cache (feeds/chunks.py), so the worker reads only
        the items it has not seen; the result is the same without it."""
        try:
            result: ParsedFeed = await self.run(
                _parse_in_worker, body, base_url, known or KnownHashes(), self.time_limit, text_for_new, cache
            )
            return result
        except (ParseError, asyncio.CancelledError):
            raise
        except (RecursionError, MemoryError) as e:
            raise ParseError(f"the parser gave up ({type(e).__name__})") from None
        except Exception as e:
            # Anything feedparser raises is this feed's problem, not the bot's.
            raise ParseError(f"unreadable feed ({type(e).__name__})") from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            await asyncio.get_running_loop().run_in_executor(None, pool.join, 10)
