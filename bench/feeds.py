"""Feeds benchmark: `python -m bench.feeds --feeds 1000`.

Serves synthetic feeds on loopback (bench/feedserver.py, in a child process), then runs
the real pipeline (FeedService: aiohttp fetcher, process-pool parser, SQLite outbox,
delivery to a counting messenger) for a cold cycle and a steady cycle in which 5% of the
feeds gained one item, and a naive baseline (sequential GET, then feedparser.parse in the
event loop) on the same feeds. While each cycle runs, a probe task measures event-loop
lag and a `!help` command (a read-only lookup like `!rights`) is dispatched every 50 ms
to time its answer. Prints a table and ends with one key=value line.

`--seen-items N` first preloads N items of history (items that left their feeds and were
posted, one sent delivery each) by bulk insert, spread over the feeds, and subscribes a
forum's server to 20 of the feeds; a second command loop then dispatches, as a moderator of
that forum, a mix that reads the database (`!help`, `!myreports`, `!feeds list`,
`!feeds status`) every 50 ms mid-cycle, and the key=value line gains `db_mb` (database plus
WAL at the end) and `command_p99_ms` (the p99 of that mix).
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
    fn: Callable[[], Awaitable[Any]], core: BotCore | None, *, mix: bool = False
) -> tuple[float, Any, Probe]:
    probe = Probe(core)
    tasks = [asyncio.create_task(probe.lag_loop())]
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


def hwm_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def baseline(urls: list[str], user_agent: str) -> int:
    """The naive way: one feed after another, parsed in the event loop."""
    import aiohttp
    import feedparser

    seen = 0
    async with aiohttp.ClientSession(headers={"User-Agent": user_agent}) as session:
        for url in urls:
            async with session.get(url) as resp:
                body = await resp.read()
            parsed = feedparser.parse(body)
            seen += len(parsed.entries)
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


async def run(feeds: int, sites: int, workdir: Path, seen_items: int = 0) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(feeds, sites, child), daemon=True, name="bench-feed-server")
    t0 = time.perf_counter()
    server.start()
    ports: list[int] = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
    print(f"served {feeds} feeds from {sites} loopback sites in {time.perf_counter() - t0:.1f} s set-up", flush=True)
    urls = [f"http://127.0.0.1:{ports[f % sites]}/f/{f}" for f in range(feeds)]

    db_path = workdir / "bench.sqlite3"
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
    service = core.cogs["feeds"].service  # type: ignore[attr-defined]
    results: dict[str, float] = {"feeds": feeds}
    try:
        now = core.now()
        for i, url in enumerate(urls):
            await service.store.subscribe(url, ChannelRef("console", "console", f"bench-{i % 50}"), now)
        if seen_items:
            # The command mix runs in one forum's server, with a forum's share of the feeds
            # (ones the steady cycle leaves alone, so the posts expected do not change).
            bumped = set(bumped_feeds(feeds))
            for f in [f for f in range(feeds) if f not in bumped][:FORUM_FEEDS]:
                await service.store.subscribe(urls[f], ChannelRef("console", "forum", "news"), now)
            t0 = time.perf_counter()
            await asyncio.get_running_loop().run_in_executor(
                None,
                preload_history,
                db_path,
                seen_items,
                int((now - timedelta(days=9)).timestamp()),
            )
            print(
                f"preloaded {seen_items} seen items in {time.perf_counter() - t0:.1f} s:"
                f" database {db_mb(db_path):.0f} MB",
                flush=True,
            )
        # Start the parser pool before timing (as the running bot does at start-up).
        await service.parser.warm()

        async def cycle() -> tuple[Any, Any]:
            summary = await service.poll_due(force=True)
            delivered = await service.deliver_due()
            return summary, delivered

        header = f"{'cycle':<16} {'wall':>10} {'items/s':>10} {'lag max':>9} {'lag p99':>9} {'cmd ms':>8}   notes"
        print(header)
        print("-" * len(header))
        mix = bool(seen_items)
        cold_s, (summary, delivered), cold = await measured(cycle, core, mix=mix)
        notes = f"{summary.new_items} items recorded, {delivered.sent} posted; db read max {cold.db_ms:.1f} ms"
        print(row("cold", cold_s, feeds * ITEMS, cold, notes))
        assert summary.errors == 0, f"{summary.errors} feeds failed in the cold cycle"

        parent.send("bump")
        await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        steady_s, (summary, delivered), steady = await measured(cycle, core, mix=mix)
        expected = len(bumped_feeds(feeds))
        print(
            row(
                "steady",
                steady_s,
                feeds * ITEMS,
                steady,
                f"{summary.fetched} parsed, {summary.unchanged} unchanged, {delivered.sent} posted"
                f" (expected {expected}); db read max {steady.db_ms:.1f} ms",
            )
        )
        assert delivered.sent == expected, f"posted {delivered.sent}, expected {expected}"
        if mix:
            size = db_mb(db_path)
            results.update(db_mb=size, command_p99_ms=p99_ms(cold.mix + steady.mix))
            print(
                f"database {size:.0f} MB; command mix ({', '.join(COMMAND_MIX)}) mid-cycle p99:"
                f" cold {p99_ms(cold.mix):.1f} ms, steady {p99_ms(steady.mix):.1f} ms"
                f" ({len(cold.mix) + len(steady.mix)} commands, max {max(cold.mix + steady.mix) * 1000:.1f} ms)"
            )
            each = {c: cold.mix_by_command.get(c, []) + steady.mix_by_command.get(c, []) for c in COMMAND_MIX}
            print("  p99 by command: " + ", ".join(f"{c} {p99_ms(t):.1f} ms" for c, t in each.items()))
        peak = hwm_mb() + sum(hwm_mb(pid) for pid in service.parser.worker_pids())
        print(
            f"peak memory: {peak:.0f} MB (bot process {hwm_mb():.0f} MB + parser workers"
            f" {peak - hwm_mb():.0f} MB; the feed server process is not counted)"
        )
    finally:
        await core.stop()

    base_s, seen, base = await measured(lambda: baseline(urls, cfg.section(FeedsSettings).user_agent), None)
    ratio = base_s / steady_s if steady_s else 0.0
    print(row("baseline steady", base_s, seen, base, "sequential GET + feedparser.parse in the loop"))
    print(f"steady cycle is {ratio:.1f}x faster than the baseline")
    parent.send("stop")
    server.join(timeout=10)
    if server.is_alive():
        server.kill()

    results.update(
        cold_s=cold_s,
        steady_s=steady_s,
        baseline_steady_s=base_s,
        steady_ratio=ratio,
        lag_max_ms=max(cold.lag_max_ms, steady.lag_max_ms),
        lag_p99_ms=max(cold.lag_p99_ms, steady.lag_p99_ms),
        command_ms=max(cold.command_ms, steady.command_ms),
        peak_mb=peak,
    )
    targets = [
        ("steady cycle >= 20x baseline", ratio >= 20),
        ("event-loop lag < 50 ms in every cycle", results["lag_max_ms"] < 50),
        ("command answered < 50 ms mid-cycle", results["command_ms"] < 50),
        ("peak memory < 250 MB", peak < 250),
    ]
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
    keys = ["feeds", "cold_s", "steady_s", "baseline_steady_s", "steady_ratio", "lag_max_ms", "lag_p99_ms"]
    keys += ["command_ms", "peak_mb"]
    if args.seen_items:
        keys += ["db_mb", "command_p99_ms"]
    print(" ".join(f"{k}={results[k]:.0f}" if k == "feeds" else f"{k}={results[k]:.2f}" for k in keys))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    os._exit(130)
