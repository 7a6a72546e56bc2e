"""Feeds benchmark: `python -m bench.feeds --feeds 1000` (`make bench`).

Serves synthetic feeds on loopback (bench/feedserver.py, in a child process), then runs the
real pipeline (FeedService: aiohttp fetcher, process-pool parser, SQLite outbox, fan-out to a
counting messenger) through four cycles:

- cold: every feed seen for the first time;
- steady: 5% of the feeds gained one item, nothing else changed;
- dated: every feed's feed-level date changed (RSS lastBuildDate, Atom updated) and nothing
  else, as WordPress and GOV.UK do when a feed is rebuilt;
- latency: as steady with nothing new, but each answer takes 100 ms (a real site's round trip).

The baseline is the pipeline's own code run the naive way, on a copy of the database as it
was before each scenario: one feed after another, a plain GET with no conditional headers,
the pipeline's own parse (`feeds.parse.parse_bytes`: same library, flags and converter) in
the event loop with no known-item skipping, the same `ingest` call, then `deliver_due`.

While each pipeline cycle runs, a probe measures event-loop lag, a `!help` is dispatched every
50 ms, and a mix that reads the database (`!help`, `!myreports`, `!feeds list`,
`!feeds status`, as a moderator of a forum with 20 of the feeds) is timed: `command_p99_ms`.
Memory is the proportional set size (PSS) of the bot and its parser workers, sampled every
200 ms (`pss_mb`, the largest sum seen). `--seen-items N` first preloads N items of history
(items that left their feeds and were posted, one sent delivery each) by bulk insert; the key
line then has `db_mb` (database plus WAL at the end). Prints a table and ends with one
key=value line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.feedserver import ITEMS, bumped_feeds, serve
from bot.config import parse
from bot.core import BotCore
from bot.model import Actor, ChannelRef, Incoming, Place, Reply
from feeds.settings import FeedsSettings
from storage.db import hash64

PROBE_INTERVAL = 0.005
FIRST_COMMAND_AFTER = 0.02
COMMAND_EVERY = 0.05
# The mix of commands that read the database, dispatched in turn (moderator commands too).
COMMAND_MIX = ("!help", "!myreports", "!feeds list", "!feeds status")
FORUM_FEEDS = 20  # the feeds of the forum where the mix runs (the others belong to other servers)


class CountingMessenger:
    """A Messenger that confirms instantly and counts (the benchmark measures the pipeline)."""

    platform = "console"
    can_edit = True

    def __init__(self) -> None:
        self.posts = 0
        self.edits = 0

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        self.posts += 1
        return f"m{self.posts}"

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        self.edits += 1

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        pass

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        return "dm"


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


async def baseline(core: BotCore, urls: list[str]) -> int:
    """The pipeline's own code run the naive way: one feed after another, a plain GET (no
    conditional headers, no body-hash skip), `parse_bytes` in the event loop with no known
    items (every item converted), the same `ingest`, then `deliver_due`. Returns items seen."""
    import aiohttp

    from feeds.filters import subscription_accepts
    from feeds.parse import parse_bytes
    from feeds.scheduler import after_success

    service = core.cogs["feeds"].service  # type: ignore[attr-defined]
    settings = core.config.section(FeedsSettings)
    by_url = {f.url: f for f in await service.store.feeds()}
    seen = 0
    async with aiohttp.ClientSession(headers={"User-Agent": settings.user_agent}) as session:
        for url in urls:
            async with session.get(url) as resp:
                body = await resp.read()
            parsed = parse_bytes(body, url)
            feed = by_url[url]
            now = core.now()
            await service.store.ingest(
                feed.id,
                parsed.title,
                parsed.items,
                subscription_accepts,
                now,
                after_success(now, settings.interval_minutes),
                etag=None,
                last_modified=None,
                body_hash=None,
            )
            seen += len(parsed.items)
    await service.deliver_due()
    return seen


def _history_rows(
    subs: list[tuple[int, int, str, str, str]], ks: range, first_id: int, gone_at: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows for items `ks` of the history, spread over the subscriptions' feeds, each posted
    once, as storage keeps them once delivered (migration 0006: keys and hashes as hash64
    integers, no text; a sent post keeps its item, post_key and message id)
    after they left their feed (gone_at, within the window)."""
    items: list[tuple[Any, ...]] = []
    deliveries: list[tuple[Any, ...]] = []
    for k in ks:
        _, feed_id, platform, scope_id, channel_id = subs[k % len(subs)]
        item_id = first_id + k
        story = (hash64(f"link:https://history.example.org/{feed_id}/{k}/") or 0) >> 16
        key = (hash64(f"guid:https://history.example.org/?p={k}") or 0) >> 16
        raw, content = (hash64(f"{k:032x}") or 0) >> 32, (hash64(f"{k + 1:032x}") or 0) >> 32
        items.append((item_id, feed_id, key, story, raw, content, gone_at))
        posted = hash64(f"{platform}\x1f{scope_id}\x1f{channel_id}\x1f{story}")  # storage.feeds.records.post_key
        deliveries.append((item_id, posted, f"m{k}"))
    return items, deliveries


def preload_history(path: Path, n: int, gone_at: int) -> None:
    """Bulk insert `n` seen items (with their sent posts) into the bench database, as the
    schema stores an item that left its feed after it was posted."""
    conn = sqlite3.connect(path)
    try:
        subs = conn.execute("SELECT id, feed_id, platform, scope_id, channel_id FROM feed_subscriptions").fetchall()
        first = (conn.execute("SELECT MAX(id) FROM feed_items").fetchone()[0] or 0) + 1
        conn.execute("BEGIN")
        for start in range(0, n, 100_000):
            items, deliveries = _history_rows(subs, range(start, min(n, start + 100_000)), first, gone_at)
            conn.executemany(
                "INSERT INTO feed_items(id, feed_id, key_id, story_id, raw_hash, content_hash, gone_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                items,
            )
            conn.executemany(
                "INSERT INTO feed_deliveries(item_id, post_key, kind, status, attempts, message_id)"
                " VALUES (?, ?, 'post', 'sent', 1, ?)",
                deliveries,
            )
        conn.execute(
            f"UPDATE feed_subscriptions SET posts_sent = posts_sent + {n} / {len(subs)}"
            f" + (id IN (SELECT id FROM feed_subscriptions ORDER BY rowid LIMIT {n % len(subs)}))"
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def db_mb(path: Path) -> float:
    """The database's size on disk with its WAL, in MB."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 1e6


def row(name: str, wall: float, items: int, probe: Probe, extra: str = "") -> str:
    rate = items / wall if wall else 0.0
    cmd = f"{probe.command_ms:8.1f}" if probe.commands else "     n/a"
    return f"{name:<16} {wall:8.2f} s {rate:10.0f} {probe.lag_max_ms:9.1f} {probe.lag_p99_ms:9.1f} {cmd}   {extra}"


# The feed server's state before each scenario ("set <generation> <dated> <delay ms>"), and
# the posts each scenario's cycle must make.
STATES = {"cold": "set 0 0 0", "steady": "set 1 0 0", "dated": "set 1 1 0", "latency": "set 1 1 100"}
SCENARIOS = ("steady", "dated", "latency")


async def open_core(db_path: Path) -> tuple[BotCore, CountingMessenger]:
    cfg = parse(
        {
            "storage": {"path": str(db_path)},
            "feeds": {"enabled": False, "allow_private_addresses": True, "total_timeout_seconds": 60},
        },
        environ={},
    )
    core = await BotCore.create(cfg, cog_modules=["cogs.help", "cogs.reports", "cogs.feeds"])
    messenger = CountingMessenger()
    core.register_messenger(messenger)
    await core.start()
    return core, messenger


def snapshot(src: Path, dst: Path) -> None:
    """A consistent copy of the database (SQLite's online backup) for the baseline's run."""
    with contextlib.closing(sqlite3.connect(src)) as a, contextlib.closing(sqlite3.connect(dst)) as b:
        a.backup(b)


async def run(feeds: int, sites: int, workdir: Path, seen_items: int = 0) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(feeds, sites, child), daemon=True, name="bench-feed-server")
    t0 = time.perf_counter()
    server.start()
    loop = asyncio.get_running_loop()
    ports: list[int] = await loop.run_in_executor(None, parent.recv)
    print(f"served {feeds} feeds from {sites} loopback sites in {time.perf_counter() - t0:.1f} s set-up", flush=True)
    urls = [f"http://127.0.0.1:{ports[f % sites]}/f/{f}" for f in range(feeds)]

    async def tell(message: str) -> None:
        parent.send(message)
        await loop.run_in_executor(None, parent.recv)

    db_path = workdir / "bench.sqlite3"
    core, messenger = await open_core(db_path)
    service = core.cogs["feeds"].service  # type: ignore[attr-defined]
    results: dict[str, float] = {"feeds": feeds}
    probes: dict[str, Probe] = {}
    walls: dict[str, float] = {}
    expected = {"cold": 0, "steady": len(bumped_feeds(feeds)), "dated": 0, "latency": 0}
    try:
        now = core.now()
        for i, url in enumerate(urls):
            await service.store.subscribe(url, ChannelRef("console", "console", f"bench-{i % 50}"), now)
        # The command mix runs in one forum's server, with a forum's share of the feeds (ones
        # the steady cycle leaves alone, so the posts expected do not change).
        bumped = set(bumped_feeds(feeds))
        for f in [f for f in range(feeds) if f not in bumped][:FORUM_FEEDS]:
            await service.store.subscribe(urls[f], ChannelRef("console", "forum", "news"), now)
        if seen_items:
            t0 = time.perf_counter()
            await loop.run_in_executor(
                None, preload_history, db_path, seen_items, int((now - timedelta(days=9)).timestamp())
            )
            print(
                f"preloaded {seen_items} seen items in {time.perf_counter() - t0:.1f} s:"
                f" database {db_mb(db_path):.0f} MB",
                flush=True,
            )
        # Load the feed libraries and start the parser pool before timing (as the running bot
        # does at start-up).
        await service.warm()

        async def cycle() -> tuple[Any, Any]:
            summary = await service.poll_due(force=True)
            delivered = await service.deliver_due()
            return summary, delivered

        header = f"{'cycle':<16} {'wall':>10} {'items/s':>10} {'lag max':>9} {'lag p99':>9} {'cmd ms':>8}   notes"
        print(header)
        print("-" * len(header))
        for name in ("cold", *SCENARIOS):
            if name != "cold":
                snapshot(db_path, workdir / f"before-{name}.sqlite3")
            await tell(STATES[name])
            posts_before = messenger.posts
            wall, (summary, _delivered), probe = await measured(cycle, core, mix=True, pids=service.parser.worker_pids)
            walls[name], probes[name] = wall, probe
            posted = messenger.posts - posts_before
            print(
                row(
                    name,
                    wall,
                    feeds * ITEMS,
                    probe,
                    f"{summary.fetched} parsed, {summary.unchanged} unchanged, {summary.new_items} new items,"
                    f" {posted} posted; mix p99 {p99_ms(probe.mix):.1f} ms",
                ),
                flush=True,
            )
            assert summary.errors == 0, f"{summary.errors} feeds failed in the {name} cycle"
            assert posted == expected[name], f"{name}: posted {posted}, expected {expected[name]}"
        size = db_mb(db_path)
        pss = max(p.pss_peak_mb for p in probes.values())
        peak = hwm_mb() + sum(hwm_mb(pid) for pid in service.parser.worker_pids())
        print(
            f"memory: peak PSS {pss:.0f} MB (bot and parser workers, shared pages counted once);"
            f" peak RSS {peak:.0f} MB (bot {hwm_mb():.0f} MB + workers {peak - hwm_mb():.0f} MB)"
        )
        mixed = [t for p in probes.values() for t in p.mix]
        each = {c: [t for p in probes.values() for t in p.mix_by_command.get(c, [])] for c in COMMAND_MIX}
        print(
            f"database {size:.0f} MB; command mix mid-cycle p99 {p99_ms(mixed):.1f} ms over {len(mixed)} commands"
            " (" + ", ".join(f"{c} {p99_ms(t):.1f}" for c, t in each.items()) + ")"
        )
    finally:
        await core.stop()

    base: dict[str, float] = {}
    for name in SCENARIOS:
        await tell(STATES[name])
        base_core, _ = await open_core(workdir / f"before-{name}.sqlite3")
        try:
            wall, seen, probe = await measured(lambda c=base_core: baseline(c, urls), None)  # type: ignore[misc]
        finally:
            await base_core.stop()
        base[name] = wall
        ratio = wall / walls[name] if walls[name] else 0.0
        print(
            row(f"baseline {name}", wall, seen, probe, f"naive: one feed at a time, no skipping; {ratio:.1f}x"),
            flush=True,
        )
    parent.send("stop")
    server.join(timeout=10)
    if server.is_alive():
        server.kill()

    ratios = {name: base[name] / walls[name] if walls[name] else 0.0 for name in SCENARIOS}
    results.update(
        cold_s=walls["cold"],
        steady_s=walls["steady"],
        baseline_steady_s=base["steady"],
        steady_ratio=ratios["steady"],
        dated_ratio=ratios["dated"],
        latency_ratio=ratios["latency"],
        lag_max_ms=max(p.lag_max_ms for p in probes.values()),
        lag_p99_ms=max(p.lag_p99_ms for p in probes.values()),
        command_ms=max(p.command_ms for p in probes.values()),
        command_p99_ms=p99_ms(mixed),
        pss_mb=pss,
        peak_mb=peak,
        db_mb=size,
    )
    targets = [
        ("steady cycle >= 50x the baseline", ratios["steady"] >= 50),
        ("dated cycle >= 30x the baseline", ratios["dated"] >= 30),
        (f"cold cycle <= 10 s for 1000 feeds (scaled: {10 * feeds / 1000:.1f} s)", walls["cold"] <= 10 * feeds / 1000),
        ("event-loop lag < 20 ms during the cold cycle", probes["cold"].lag_max_ms < 20),
        ("command mix p99 < 5 ms mid-cycle", results["command_p99_ms"] < 5),
        ("peak PSS < 120 MB", pss < 120),
    ]
    if seen_items >= 1_000_000:
        targets.append(("database < 200 MB at 1M seen items", size < 200))
    for name, ok in targets:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000, help="number of synthetic feeds (default 1000)")
    ap.add_argument("--seen-items", type=int, default=0, help="preload N seen items of history and time a command mix")
    ap.add_argument("--sites", type=int, default=0, help="loopback sites serving them (default: feeds/40, 2..25)")
    args = ap.parse_args(argv)
    if args.feeds < 1:
        ap.error("--feeds must be at least 1")
    if args.seen_items < 0:
        ap.error("--seen-items must not be negative")
    sites = args.sites or max(2, min(25, args.feeds // 40))
    with tempfile.TemporaryDirectory(prefix="sendbot-bench-") as tmp:
        results = asyncio.run(run(args.feeds, sites, Path(tmp), args.seen_items))
    keys = ["feeds", "cold_s", "steady_s", "baseline_steady_s", "steady_ratio", "dated_ratio", "latency_ratio"]
    keys += ["lag_max_ms", "lag_p99_ms", "command_ms", "command_p99_ms", "pss_mb", "peak_mb", "db_mb"]
    print(" ".join(f"{k}={results[k]:.0f}" if k == "feeds" else f"{k}={results[k]:.2f}" for k in keys))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    os._exit(130)
