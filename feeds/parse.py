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
"""

from __future__ import annotations

import asyncio
import calendar
import concurrent.futures
import concurrent.futures.process
import contextlib
import ctypes
import hashlib
import logging
import multiprocessing
import os
import re
import select
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import feedparser
import pebble

from feeds.images import item_image
from feeds.markdown import cut, html_to_markup, plain_to_markup
from feeds.model import ParsedFeed as ParsedFeed
from feeds.model import ParsedItem as ParsedItem
from feeds.model import ParseError as ParseError
from feeds.normalise import clean_link, clean_text, content_hash, item_key, story_key
from storage.feeds import KnownHashes

log = logging.getLogger(__name__)

MAX_ITEMS = 200  # per fetch: a feed with thousands of entries is cut to its first 200
MAX_SUMMARY = 4000  # characters kept in storage; posts cut further to [feeds] summary_chars
MAX_TITLE = 300
_TAG_RE = re.compile(r"<[^>]+>")


def _plain_title(value: str) -> str:
    if "<" in value:
        value = _TAG_RE.sub(" ", value)
    # Stored clean, so every place that shows a title (status, lists, posts) is safe.
    return " ".join(clean_text(value).split())[:MAX_TITLE] or "(untitled)"


def _iso(struct: Any) -> str | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _raw_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


def _summary_source(entry: Any) -> tuple[str, bool]:
    """(text, is_html) from the entry's summary, else its content."""
    detail = entry.get("summary_detail") or {}
    text = entry.get("summary") or ""
    if not text and entry.get("content"):
        detail = entry["content"][0]
        text = detail.get("value") or ""
    kind = (detail.get("type") or "text/html").lower()
    return text, ("html" in kind or "xml" in kind)


def parse_bytes(body: bytes, base_url: str, known: KnownHashes | None = None) -> ParsedFeed:
    """Parse in the current process. `known` holds the raw hashes already stored by item key
    (storage.feeds.KnownHashes), so unchanged items skip the costly HTML conversion."""
    known = known or KnownHashes()
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers={})
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    bozo = parsed.get("bozo_exception")
    if not version and not entries:
        if bozo is not None:
            raise ParseError(f"not a feed ({type(bozo).__name__}: {str(bozo)[:120]})")
        raise ParseError("not a feed (no RSS or Atom found; is this a web page?)")
    title = _plain_title(parsed.get("feed", {}).get("title") or "")
    items: list[ParsedItem] = []
    for entry in entries[:MAX_ITEMS]:
        raw_title = entry.get("title") or ""
        item_title = _plain_title(raw_title)
        link = clean_link(entry.get("link"))
        published = _iso(entry.get("published_parsed") or entry.get("updated_parsed"))
        raw_summary, is_html = _summary_source(entry)
        rh = _raw_hash(raw_title, raw_summary)
        key = item_key(entry.get("id"), link, item_title, published)
        if known.same(key, rh):
            summary = chash = None
        else:
            converted = html_to_markup(raw_summary) if is_html else plain_to_markup(raw_summary)
            summary = cut(converted, MAX_SUMMARY)
            chash = content_hash(item_title, summary)
        items.append(
            ParsedItem(
                item_key=key,
                story_key=story_key(link, item_title, published),
                raw_hash=rh,
                title=item_title,
                link=link,
                published=published,
                summary=summary,
                content_hash=chash,
                image=item_image(entry, base_url),
            )
        )
    warning = f"{type(bozo).__name__}: {str(bozo)[:120]}" if bozo is not None else None
    return ParsedFeed(title=title, items=items, warning=warning)


class _Alarm(Exception):
    pass


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


def _parse_in_worker(body: bytes, base_url: str, known: KnownHashes, limit: float) -> ParsedFeed:
    signal.setitimer(_LIMIT_TIMER, limit)
    try:
        return parse_bytes(body, base_url, known)
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
            # forkserver: a fork of this (threaded) process could inherit held locks.
            self._pool = pebble.ProcessPool(
                max_workers=self.workers,
                initializer=_worker_init,
                initargs=(os.getpid(),),
                context=multiprocessing.get_context("forkserver"),
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

    async def parse(self, body: bytes, base_url: str, known: KnownHashes | None = None) -> ParsedFeed:
        try:
            result: ParsedFeed = await self.run(
                _parse_in_worker, body, base_url, known or KnownHashes(), self.time_limit
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
