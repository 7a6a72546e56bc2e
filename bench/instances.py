"""Several instances, one database: `python -m bench.instances --items 200`.

Issue 15, "Measured": three `sendbot run` processes share one PostgreSQL database (a
throwaway server on loopback, tests/support/postgres.py) and one Discord bot token, with
`shared_rate_budget = true`, against the Discord fake (tests/support/fakes/discord_fake.py),
which enforces Discord's global limit of 50 requests per second. `--feeds` feeds (bodies
from bench/feedserver.py, served on loopback) are each subscribed in `--channels` channels
of their own. The first fetch (`sendbot feeds poll --once`, latest = 0) records every item
and posts none; then the feeds gain `--items` new items in all, and must give exactly
items x channels posts (200 x 20 = 4,000 by default):

- steady: three instances from the start;
- kill:   three instances, the busiest killed with SIGKILL once half the posts are out;
- late:   two instances, the third started once a quarter of the posts are out.

Posts are counted from the fake's messages by (channel, feed, item). One line per scenario:
`scenario=steady instances=3 expected=4000 posted=4000 duplicates=0 lost=0 http_429=0 took_s=...`.
Exits 1 if any scenario posted anything twice or lost anything (then the instances' logs
end the output); the 429s the fake gave are counted in the line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.feedserver import ITEMS, render
from bot.model import ChannelRef
from storage.feeds import FeedStore
from storage.open import open_database
from tests.support.backends import Settings
from tests.support.fakes.discord_fake import GUILD_ID, FakeDiscord
from tests.support.feedserver import FeedServer
from tests.support.postgres import PostgresServer
from tests.support.processes import SENDBOT, clean_env

DISCORD_GLOBAL = 50  # Discord's global limit: requests per second per bot token
INSTANCES = 3
FIRST_CHANNEL = 300000000000000001
TITLE = re.compile(r"Feed (\d+) story (\d+)")
SCENARIOS = ("steady", "kill", "late")
Key = tuple[str, int, int]  # (channel id, feed, item number)


@dataclass
class Tally:
    """One scenario's outcome, counted from the fake's messages."""

    scenario: str
    instances: int
    expected: int
    posted: int
    duplicates: int
    lost: int
    http_429: int
    took_s: float

    @property
    def exact(self) -> bool:
        """Every post made once: what must hold. (A 429 costs a retry, not a post: reported.)"""
        return self.posted == self.expected and self.duplicates == 0 and self.lost == 0

    def line(self) -> str:
        return (
            f"scenario={self.scenario} instances={self.instances} expected={self.expected} posted={self.posted}"
            f" duplicates={self.duplicates} lost={self.lost} http_429={self.http_429} took_s={self.took_s:.1f}"
        )


@dataclass
class World:
    """One scenario's feeds, Discord fake, database and running instances."""

    tmp: Path
    url: str  # the database
    feeds: FeedServer
    fake: FakeDiscord
    n_feeds: int
    channels: int
    new_per_feed: int
    procs: dict[int, asyncio.subprocess.Process] = field(default_factory=dict)  # pid -> process
    # Each message's key, read once: the fake shares this process's event loop, and reading
    # thousands of messages every poll would slow its answers (and bunch its requests).
    _keys: dict[int, Key | None] = field(default_factory=dict)

    def channel_ids(self, feed: int) -> list[str]:
        return [str(FIRST_CHANNEL + feed * self.channels + c) for c in range(self.channels)]

    def expected(self) -> set[Key]:
        new = range(ITEMS + 1, ITEMS + self.new_per_feed + 1)
        return {(cid, f, n) for f in range(self.n_feeds) for cid in self.channel_ids(f) for n in new}

    def seen(self) -> Counter[Key]:
        """(channel, feed, item) of every message in the fake, counted."""
        for mid, m in [(mid, m) for mid, m in self.fake.messages.items() if mid not in self._keys]:
            hit = TITLE.search(json.dumps(m.get("embeds")) + str(m.get("content")))
            self._keys[mid] = (str(m.get("channel_id")), int(hit.group(1)), int(hit.group(2))) if hit else None
        return Counter(k for k in self._keys.values() if k is not None)

    def posted(self) -> int:
        self.seen()
        return sum(1 for k in self._keys.values() if k is not None)


# -- steps ---------------------------------------------------------------------------------


async def create_database(server: PostgresServer, name: str) -> str:
    conn = await asyncpg.connect(server.url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.url(name)


def serve_feeds(feeds: FeedServer, n_feeds: int, grown_by: int = 0) -> list[str]:
    """Feed f lists its newest ITEMS items, numbered up to ITEMS + `grown_by`."""
    return [feeds.set(f"/f/{f}", render(f, ITEMS + grown_by)) for f in range(n_feeds)]


async def subscribe_all(world: World, urls: list[str]) -> None:
    """Through the storage API: every feed in its own channels, latest = 0."""
    db = await open_database(Settings(str(world.tmp / "unused.sqlite3"), world.url))
    try:
        store = FeedStore(db)
        now = datetime.now(UTC)
        for f, url in enumerate(urls):
            for cid in world.channel_ids(f):
                await store.subscribe(url, ChannelRef("discord", str(GUILD_ID), cid), now, latest=0)
    finally:
        await db.close()


async def make_due(world: World) -> None:
    """The feeds' next fetch is now (as if their interval had passed)."""
    conn = await asyncpg.connect(world.url)
    try:
        await conn.execute("UPDATE feeds SET next_fetch_at = $1", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    finally:
        await conn.close()


def write_config(world: World, shard: int) -> Path:
    cfg = world.tmp / f"instance-{shard}.toml"
    cfg.write_text(
        f'[storage]\nurl = "{world.url}"\n\n[logging]\nlevel = "INFO"\n\n'
        "[feeds]\nallow_private_addresses = true\n\n"
        f'[discord]\napi_base_url = "{world.fake.api_base_url}"\ngateway_url = "{world.fake.gateway_url}"\n'
        f"guild_ids = [{GUILD_ID}]\nshared_rate_budget = true\nrequests_per_second = {DISCORD_GLOBAL}\n"
        f"shard_count = {INSTANCES}\nshard_ids = [{shard}]\n",
        encoding="utf-8",
    )
    return cfg


async def first_fetch(world: World) -> None:
    """`sendbot feeds poll --once`: first sight of every feed, nothing posted."""
    cfg = write_config(world, 0)
    proc = await asyncio.create_subprocess_exec(
        SENDBOT, "feeds", "poll", "--once", "--config", str(cfg), cwd=world.tmp, env=clean_env(),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"first fetch failed: {out.decode()[-1000:]} {err.decode()[-2000:]}")


async def start_instance(world: World, shard: int) -> asyncio.subprocess.Process:
    """`sendbot run` for one shard, its output in instance-N.log."""
    log = (world.tmp / f"instance-{shard}.log").open("ab")
    proc = await asyncio.create_subprocess_exec(
        SENDBOT, "run", "--config", str(write_config(world, shard)), cwd=world.tmp,
        env=clean_env(DISCORD_TOKEN="bench-token"), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
    )  # fmt: skip
    log.close()
    world.procs[proc.pid] = proc
    return proc


async def wait_posted(world: World, count: int, deadline: float) -> None:
    """Until the fake holds `count` posts (or the deadline passes)."""
    # Polling is the point: the posts are made by other processes, seen through the fake.
    while world.posted() < count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


async def busiest_pid(world: World) -> int:
    """The live instance holding the most delivery claims (its id holds its pid)."""
    conn = await asyncpg.connect(world.url)
    try:
        rows = await conn.fetch(
            "SELECT claimed_by, COUNT(*) AS n FROM feed_deliveries WHERE claimed_by IS NOT NULL"
            " GROUP BY claimed_by ORDER BY n DESC"
        )
    finally:
        await conn.close()
    for row in rows:
        pid = int(str(row["claimed_by"]).rsplit("-", 2)[1])
        if pid in world.procs and world.procs[pid].returncode is None:
            return pid
    return next(pid for pid, p in world.procs.items() if p.returncode is None)


async def stop_all(world: World) -> None:
    for proc in world.procs.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for proc in world.procs.values():
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def tally(world: World, scenario: str, took: float) -> Tally:
    seen, expected = world.seen(), world.expected()
    return Tally(
        scenario,
        INSTANCES,
        len(expected),
        sum(seen.values()),
        sum(n - 1 for k, n in seen.items() if n > 1) + sum(n for k, n in seen.items() if k not in expected),
        len(expected - set(seen)),
        world.fake.http_429,
        took,
    )


# -- scenarios -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def world_for(
    server: PostgresServer, tmp: Path, name: str, n_feeds: int, channels: int, new_per_feed: int
) -> AsyncIterator[World]:
    """Feeds seen once (nothing posted), then grown and due; no instance running yet."""
    feeds = await FeedServer().start()
    fake = await FakeDiscord.start(global_rate=DISCORD_GLOBAL)
    world = World(tmp, await create_database(server, name), feeds, fake, n_feeds, channels, new_per_feed)
    try:
        for f in range(n_feeds):
            for i, cid in enumerate(world.channel_ids(f)):
                fake.add_text_channel(int(cid), f"feed-{f}-{i}")
        await subscribe_all(world, serve_feeds(feeds, n_feeds))
        await first_fetch(world)
        serve_feeds(feeds, n_feeds, grown_by=new_per_feed)
        await make_due(world)
        yield world
    finally:
        await stop_all(world)
        await fake.close()
        await feeds.close()


async def run_scenario(world: World, scenario: str, within: float) -> Tally:
    expected = len(world.expected())
    deadline = time.monotonic() + within
    started = time.monotonic()
    first = INSTANCES - 1 if scenario == "late" else INSTANCES
    for shard in range(first):
        await start_instance(world, shard)
    if scenario == "kill":
        await wait_posted(world, expected // 2, deadline)
        pid = await busiest_pid(world)
        world.procs[pid].send_signal(signal.SIGKILL)
        await world.procs[pid].wait()
    elif scenario == "late":
        await wait_posted(world, expected // 4, deadline)
        await start_instance(world, INSTANCES - 1)
    await wait_posted(world, expected, deadline)
    took = time.monotonic() - started
    await asyncio.sleep(1.0)  # a late double would show up now
    return tally(world, scenario, took)


async def run_all(server: PostgresServer, args: argparse.Namespace, report: Callable[[str], None]) -> list[Tally]:
    """Each scenario in its own database, feeds and fake; an inexact one shows its logs' ends."""
    results: list[Tally] = []
    for scenario in args.scenarios:
        with tempfile.TemporaryDirectory(prefix=f"sendbot-instances-{scenario}-") as tmp:
            name = f"instances_{scenario}_{secrets.token_hex(4)}"
            per_feed = args.items // args.feeds
            async with world_for(server, Path(tmp), name, args.feeds, args.channels, per_feed) as world:
                result = await run_scenario(world, scenario, args.timeout)
            if not result.exact:
                report(await asyncio.to_thread(log_tails, Path(tmp)))
        report(result.line())
        results.append(result)
    return results


def log_tails(folder: Path, lines: int = 15) -> str:
    return "\n".join(
        f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-lines:])
        for log in sorted(folder.glob("instance-*.log"))
    )


async def main_async(args: argparse.Namespace) -> int:
    if args.items % args.feeds:
        print(f"--items ({args.items}) must be a multiple of --feeds ({args.feeds})", file=sys.stderr)
        return 2
    server = await asyncio.to_thread(PostgresServer.start)
    try:
        results = await run_all(server, args, lambda s: print(s, flush=True))
    finally:
        await asyncio.to_thread(server.stop)
    return 0 if all(r.exact for r in results) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.instances", description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--channels", type=int, default=20, help="channels per feed (each feed has its own)")
    parser.add_argument("--items", type=int, default=200, help="new items in all, after the first fetch")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a scenario may take")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
