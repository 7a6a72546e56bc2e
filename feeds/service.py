"""The feeds pipeline put together: fetch -> parse -> ingest (outbox) -> deliver.

The delivery half (sending the outbox's due deliveries) is in feeds/delivery.py.

One FeedService per running bot. It owns the HTTP session and the parser pool, both made
lazily inside the running loop, and is used by the cog (commands and the background
loop), by the CLI (`sendbot feeds poll --once`) and by the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

from bot.markup import escape
from bot.model import ChannelRef
from feeds import schedule, scheduler
from feeds.channels import channel_of
from feeds.chunks import CacheShelf
from feeds.claims import leased_feeds

# Re-exported: these lived here before the delivery half moved to feeds/delivery.py (issue 12).
from feeds.delivery import DELIVERY_BATCH as DELIVERY_BATCH
from feeds.delivery import DELIVERY_CONCURRENCY as DELIVERY_CONCURRENCY
from feeds.delivery import MAX_DELIVERY_ATTEMPTS as MAX_DELIVERY_ATTEMPTS
from feeds.delivery import DeliveryMixin
from feeds.delivery import DeliverySummary as DeliverySummary
from feeds.filters import subscription_accepts
from feeds.model import FetchResult, FetchSettings, ParsedFeed, ParseError
from feeds.render import when
from feeds.settings import FeedsSettings
from storage.db import describe_error
from storage.feeds import Feed, FeedStore, Hold, IngestReport, KnownHashes, TextNeeded, UnchangedFetch, from_iso
from storage.handle import database_errors

if TYPE_CHECKING:
    from bot.core import BotCore
    from feeds.fetch import Fetcher
    from feeds.parse import Parser

log = logging.getLogger(__name__)

UNCHANGED_BATCH = 100
DB_GATE = 2
# Poll workers beyond `max_concurrency`: a worker whose feed changed spends tens of ms on its
# parse and ingest, and without spares its fetch slot would stand idle meanwhile. The fetcher's
# connection limit still caps requests in flight at `max_concurrency`.
SPARE_WORKERS = 8
# When the database cannot be written (disk full, read-only, locked, damaged), the whole
# poller waits, doubling from a minute to half an hour: fetching again at once would hammer
# every feed's site while nothing could be recorded.
STORAGE_BACKOFF_MIN = 60.0
STORAGE_BACKOFF_MAX = 1800.0
# At shutdown, a send in progress may finish within this; then the loop is cancelled (a send
# cut off is marked in flight in the database, and settled at the next start).
STOP_TIMEOUT = 10.0


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(name)


class StorageTrouble(Exception):
    """The database failed during a poll cycle; the message is describe_error's one line."""


# A cycle that fails on these backs off (run_forever) rather than retrying in a minute.
def _cycle_storage_failures() -> tuple[type[BaseException], ...]:
    return (StorageTrouble, *database_errors())


@dataclass
class PollOutcome:
    feed_id: int
    status: Literal["new", "unchanged", "error", "paused"]
    report: IngestReport | None = None
    error: str | None = None


@dataclass
class CycleSummary:
    feeds: int = 0
    fetched: int = 0
    unchanged: int = 0
    errors: int = 0
    new_items: int = 0
    changed_items: int = 0
    queued: int = 0
    paused: list[int] = field(default_factory=list)
    storage_error: str | None = None

    def line(self) -> str:
        return (
            f"{self.feeds} feed(s): {self.fetched} with news, {self.unchanged} unchanged, {self.errors} failed;"
            f" {self.new_items} new item(s), {self.changed_items} changed, {self.queued} queued to post"
            + (f"; paused: {', '.join(map(str, self.paused))}" if self.paused else "")
        )


class FeedService(DeliveryMixin):
    """Polling (here) and delivery (feeds/delivery.py, composed in as DeliveryMixin)."""

    def __init__(self, core: BotCore, *, parser_workers: int | None = None, parse_time_limit: float = 10.0) -> None:
        self.core = core
        # Told the time of each poll cycle that completed (the cog records it for /healthz).
        self.on_cycle_done: Callable[[datetime], None] | None = None
        self.config = core.config.section(FeedsSettings)
        self.store = FeedStore(core.db)
        # The fetcher (aiohttp) and the parser (feedparser, lxml, a process pool) are made on
        # first use, so a command or `sendbot ask` never loads them.
        self._parser_args = (parser_workers, parse_time_limit)
        self._parser: Parser | None = None
        self._fetcher: Fetcher | None = None
        # What each feed's items parsed to last time (feeds/chunks.py): a fetch that gained one
        # item then parses that item, not all fifty. In memory only; a few KB a feed.
        self.item_caches = CacheShelf()
        self._deliver_lock = asyncio.Lock()
        # Writes go through one connection behind a FIFO lock (commands read on their own
        # read-only connection, storage/db.py). Letting only a couple of feeds queue writes
        # at a time keeps a command's write near the front of that queue, however many
        # fetches are in flight.
        self._db_gate = asyncio.Semaphore(DB_GATE)
        self.wake = asyncio.Event()
        self._stopping = False
        self._send_idle = asyncio.Event()  # clear while platform calls are in progress
        self._send_idle.set()
        self._sending = 0  # platform calls in progress
        self.delivery_concurrency = DELIVERY_CONCURRENCY
        self.last_fanout_in_flight = 0  # the most sends at once in the last deliver_due
        self.storage_backoff = 0.0  # seconds the poller last waited for the database (0: fine)
        self.crash_delay = 60.0  # seconds before the next cycle after a cycle crashed

    @property
    def parser(self) -> Parser:
        if self._parser is None:
            from feeds.parse import Parser

            self._parser = Parser(*self._parser_args)
        return self._parser

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            from feeds.fetch import Fetcher

            self._fetcher = Fetcher(FetchSettings.from_config(self.config), clock=self.core.now)
        return self._fetcher

    async def warm(self) -> None:
        """Load the fetcher's and the parser's libraries in a thread, then start the parser's
        workers. Imported on the loop thread at the first poll, aiohttp alone stalled the
        loop for 80-300 ms (the cold cycle's largest stall), so they are loaded here, off it."""
        await asyncio.to_thread(_import_all, ("feeds.fetch", "feeds.parse"))
        await self.parser.warm()

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.close()
            self._fetcher = None
        if self._parser is not None:
            await self._parser.close()

    def interval(self, feed: Feed) -> int:
        return feed.interval_minutes or self.config.interval_minutes

    async def hold_for(self, feed_id: int) -> Hold:
        """When a new post of this feed is due in each channel if not now: quiet hours and
        digests (feeds/schedule.py), in each forum's own time zone (`!settings`)."""
        zones: dict[tuple[str, str], tzinfo] = {}
        for sub in await self.store.subscriptions(feed_id=feed_id):
            if (sub.mode != "each" or sub.quiet_hours) and (sub.platform, sub.scope_id) not in zones:
                zones[(sub.platform, sub.scope_id)] = await self.core.tz_for(sub.platform, sub.scope_id)
        now = self.core.now()
        return lambda sub: schedule.hold(sub, now, zones.get((sub.platform, sub.scope_id), self.core.tz))

    # -- one feed ------------------------------------------------------------------------

    async def fetch_and_parse(
        self, url: str, *, feed: Feed | None = None, conditional: bool = True, text_for_new: bool = True
    ) -> tuple[FetchResult, ParsedFeed | None, str | None]:
        """(fetch result, parsed feed or None, error text or None). Never raises for feed faults.
        Without `text_for_new`, items not listed last time come without their text (no channel
        would post them: converting their HTML was most of a first sight's cost)."""
        fetched = await self.fetcher.fetch(
            url,
            etag=feed.etag if feed and conditional else None,
            last_modified=feed.last_modified if feed and conditional else None,
            last_hash=feed.body_hash if feed and conditional else None,
        )
        if not fetched.ok:
            return fetched, None, fetched.error
        if fetched.outcome == "unchanged":
            return fetched, None, None
        assert fetched.body is not None
        # What the feed listed last time, so unchanged items skip the HTML conversion. Not for
        # a full fetch (a channel's first sight): stored items keep no text once delivered, so
        # every item must come with its own.
        known = KnownHashes()
        if feed is not None and conditional:
            known = await self.store.known_hashes(feed.id)
        cache = self.item_caches.get(feed.id) if feed is not None else None
        try:
            parsed = await self.parser.parse(
                fetched.body, fetched.final_url or url, known, text_for_new=text_for_new, cache=cache
            )
        except ParseError as e:
            return fetched, None, str(e)
        if feed is not None:
            self.item_caches.put(feed.id, parsed.cache)
        return fetched, parsed, None

    async def poll_feed(self, feed: Feed, unchanged: list[UnchangedFetch] | None = None) -> PollOutcome:
        """Fetch, parse and record one feed. With `unchanged`, "nothing new" bookkeeping is
        appended there for the caller to write in one batch."""
        # A channel seeing this feed for the first time needs every item, so skip the
        # conditional request and the "same bytes" shortcut.
        full = feed.unprimed if feed.unprimed is not None else await self.store.has_unprimed(feed.id)
        posting = feed.posting if feed.posting is not None else await self.store.has_posting(feed.id)
        try:
            fetched, parsed, error = await self.fetch_and_parse(
                feed.url, feed=feed, conditional=not full, text_for_new=posting
            )
        except Exception as e:  # a bug, not the feed's fault: record it, keep the loop alive
            log.exception("feed %s: unexpected error", feed.id)
            fetched, parsed, error = FetchResult("error", feed.url), None, f"internal error ({type(e).__name__})"
        now = self.core.now()
        interval = self.interval(feed)
        if error is not None:
            if fetched.status == 429:
                self.core.metrics.rate_limited.labels("feeds").inc()
            return await self._failed(feed, error, now, fetched.retry_after)
        next_at = scheduler.after_success(now, interval, max_age=fetched.max_age)
        if parsed is None:
            row = UnchangedFetch(feed.id, now, next_at, fetched.etag, fetched.last_modified)
            if unchanged is None:
                async with self._db_gate:
                    await self.store.record_unchanged([row])
            else:
                unchanged.append(row)
            return PollOutcome(feed.id, "unchanged")
        try:
            report = await self._ingest(feed.id, parsed, fetched, now, next_at)
        except TextNeeded:  # a channel that posts came while it was parsed without new items' text
            assert fetched.body is not None
            parsed = await self.parser.parse(fetched.body, fetched.final_url or feed.url)
            report = await self._ingest(feed.id, parsed, fetched, now, next_at)
        return PollOutcome(feed.id, "new", report)

    async def _ingest(
        self, feed_id: int, parsed: ParsedFeed, fetched: FetchResult, now: datetime, next_at: datetime
    ) -> IngestReport:
        hold = await self.hold_for(feed_id)
        async with self._db_gate:
            return await self.store.ingest(
                feed_id,
                parsed.title,
                parsed.items,
                subscription_accepts,
                now,
                next_at,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=fetched.body_hash,
                hold=hold,
            )

    async def _failed(self, feed: Feed, error: str, now: datetime, retry_after: float | None) -> PollOutcome:
        failures = feed.consecutive_failures + 1
        # The backoff never carries the next try past the pause moment, so a feed failing for
        # `pause_after_hours` is paused then, not hours later (docs/feeds.md says 24 h).
        pause_at = scheduler.pause_time(from_iso(feed.failing_since) or now, self.config.pause_after_hours)
        next_at = scheduler.after_failure(
            now, self.interval(feed), failures, retry_after=retry_after, pause_at=pause_at
        )
        async with self._db_gate:
            updated = await self.store.record_failure(feed.id, error, now, next_at)
        log.info("feed %s failed (%d in a row): %s", feed.id, failures, error)
        since = from_iso(updated.failing_since) if updated else now
        if updated and scheduler.should_pause(now, since, self.config.pause_after_hours):
            await self._pause_with_notice(updated, error, since or now, now)
            return PollOutcome(feed.id, "paused", error=error)
        return PollOutcome(feed.id, "error", error=error)

    async def _pause_with_notice(self, feed: Feed, error: str, since: datetime, now: datetime) -> None:
        subs = await self.store.subscriptions(feed_id=feed.id)
        channels: dict[ChannelRef, int] = {}
        for s in subs:
            channels.setdefault(channel_of(s), s.id)
        p = self.core.prefix
        notices = []
        for channel, sub_id in channels.items():
            text = (
                f"⚠️ Feed updates from **{escape(feed.display_name)}** are paused: every fetch has failed"
                f" since {when(since, await self.core.tz_for(channel.platform, channel.scope_id))}"
                f" (last error: {escape(error)})."
                f" A moderator can turn them back on with `{p}feeds resume {sub_id}`."
            )
            notices.append((channel, text))
        await self.store.pause(feed.id, f"failing since {since:%Y-%m-%d %H:%M} UTC: {error}", now, notices)
        log.warning("feed %s paused after failing since %s: %s", feed.id, since, error)

    # -- a cycle -------------------------------------------------------------------------

    async def poll_due(self, *, force: bool = False, only: Callable[[Feed], bool] | None = None) -> CycleSummary:
        """Fetch every feed that is due (every active feed, if forced), a bounded number at a time."""
        feeds = await self.store.due_feeds(self.core.now(), force=force)
        if only is not None:
            feeds = [f for f in feeds if only(f)]
        feeds = await leased_feeds(self.claims, feeds, self.core.now(), force=force)  # one instance per feed
        summary = CycleSummary(feeds=len(feeds))
        unchanged: list[UnchangedFetch] = []
        queue: asyncio.Queue[Feed] = asyncio.Queue()
        for f in feeds:
            queue.put_nowait(f)

        # A fixed set of workers pulling from a queue (rather than a task per feed) keeps
        # memory and scheduling flat however many feeds are due.
        async def worker() -> None:
            while not queue.empty() and not self._stopping and summary.storage_error is None:
                feed = queue.get_nowait()
                try:
                    outcome = await self.poll_feed(feed, unchanged)
                    if len(unchanged) >= UNCHANGED_BATCH:
                        batch = unchanged[:]
                        unchanged.clear()
                        async with self._db_gate:
                            await self.store.record_unchanged(batch)
                except database_errors() as e:
                    # Nothing can be recorded: stop this cycle (every other feed would fail the
                    # same way after fetching) and let run_forever back off.
                    summary.storage_error = describe_error(self.core.db.path, e)
                    outcome = PollOutcome(feed.id, "error", error="storage error")
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if task is None or task.cancelling():
                        raise  # the cycle is being stopped
                    # Cancelled from inside (not asked for): this feed's failure, not the cycle's.
                    log.exception("feed %s: its fetch was cancelled unexpectedly", feed.id)
                    outcome = PollOutcome(feed.id, "error", error="internal error")
                except Exception:  # a bug with one feed: count it, keep the other feeds going
                    log.exception("feed %s: could not record the fetch", feed.id)
                    outcome = PollOutcome(feed.id, "error", error="internal error")
                self.core.metrics.feed_fetches.labels(outcome.status).inc()
                if outcome.status == "new" and outcome.report:
                    summary.fetched += 1
                    summary.new_items += outcome.report.new
                    summary.changed_items += outcome.report.changed
                    summary.queued += outcome.report.queued
                elif outcome.status == "unchanged":
                    summary.unchanged += 1
                else:
                    summary.errors += 1
                    if outcome.status == "paused":
                        summary.paused.append(feed.id)

        try:
            workers = min(len(feeds), self.config.max_concurrency + SPARE_WORKERS)
            await asyncio.gather(*(worker() for _ in range(workers)))
        finally:
            if summary.storage_error is None:
                await self.store.record_unchanged(unchanged)
                await self.claims.release_feeds()  # fetched: next_fetch_at now keeps others off
        return summary

    # -- the background loop -------------------------------------------------------------

    async def run_forever(self) -> None:
        """Poll and deliver until stopped; sleeps until the next thing is due or `wake` is set."""
        try:
            await self.warm()
        except Exception:
            log.exception("could not start the feed parser processes; will try again when parsing")
        with contextlib.suppress(*database_errors()):  # a broken database is reported by the loop below
            if settled := await self.store.settle_in_flight(self.core.now()):
                log.info("feeds: %d delivery(ies) were cut off mid-send last time; settling them first", settled)
        while not self._stopping:
            try:
                summary = await self.poll_due()
                if summary.storage_error:
                    raise StorageTrouble(summary.storage_error)
                if summary.feeds:
                    log.info("feeds cycle: %s", summary.line())
                await self.deliver_due()
                self.core.metrics.poll_cycles.inc()
                if self.on_cycle_done is not None:
                    self.on_cycle_done(self.core.now())
                delay = await self._seconds_until_next()
                if self.storage_backoff:
                    log.info("feeds: the database works again; polling resumes")
                self.storage_backoff = 0.0
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise
                log.exception("feeds cycle was cancelled from inside; trying again in a minute")
                delay = self.crash_delay
            except _cycle_storage_failures() as e:
                self.storage_backoff = min(max(self.storage_backoff * 2, STORAGE_BACKOFF_MIN), STORAGE_BACKOFF_MAX)
                reason = str(e) if isinstance(e, StorageTrouble) else describe_error(self.core.db.path, e)
                log.warning("feeds: %s; the poller waits %d s before trying again", reason, self.storage_backoff)
                delay = self.storage_backoff
            except Exception:
                log.exception("feeds cycle failed; trying again in a minute")
                delay = self.crash_delay
            self.wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)

    async def platform_ready(self, platform: str) -> None:
        """An adapter has connected: its unsure deliveries go now (Discord's nonce window is
        minutes), and the loop wakes for whatever waited for it."""
        await self.store.settle_in_flight(self.core.now(), platform)
        self.wake.set()

    def request_stop(self) -> None:
        """Stop taking new work: the loop ends after the send in progress (if any)."""
        self._stopping = True
        self.wake.set()

    async def stop(self, task: asyncio.Task[None], grace: float = STOP_TIMEOUT) -> None:
        """Stop the background loop `task`: a send in progress may finish (up to `grace`
        seconds); a fetch in progress is simply cancelled (it is repeated next start)."""
        self.request_stop()
        try:
            await asyncio.wait_for(self._send_idle.wait(), grace)
        except TimeoutError:
            log.warning("feeds: a send was still in progress after %.0f s at shutdown; it is settled next start", grace)
        # Recording the outcome of the send that just finished takes a moment: let it.
        await asyncio.wait({task}, timeout=1.0)
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _seconds_until_next(self) -> float:
        now = self.core.now()
        candidates = [now + timedelta(seconds=60)]
        for t in (
            await self.store.next_fetch_time(),
            await self.store.next_delivery_time(self.core.messengers.keys()),
        ):
            if t is not None:
                candidates.append(t)
        return max(0.5, (min(candidates) - now).total_seconds())
