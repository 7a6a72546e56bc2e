"""Fan-out benchmark: `python -m bench.fanout --platform discord|slack --channels 1000 --rtt-ms 100`.

One feed item subscribed in N channels of the Discord or Slack loopback fake, which enforces
the platform's limits (Discord: 50 requests/s per bot token, and 5 message POSTs per 5 s per
channel in X-RateLimit buckets; Slack: one chat.postMessage per second per channel, and
`--workspace-rate` per second across the workspace) and answers every call after `--rtt-ms`.
The real adapter (discord.py, slack_sdk) posts through the real pipeline (FeedService, the
SQLite outbox); the figure is the wall time of `deliver_due()` against the floor, the time
those limits allow (Discord: channels / 50; Slack: channels / workspace rate).

A baseline runs first on `--baseline-channels` (default 100; 0 skips it): the code before
issue 13 part 2, one delivery at a time with no global or workspace pacer, so that the
change shows. Ends with one key=value line for the main run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.fanout import fanout_world


@dataclass
class Result:
    name: str
    channels: int
    floor_s: float
    took_s: float
    http_429: int
    sent: int
    exact: bool  # every channel shows its post exactly once
    max_in_flight: int

    @property
    def ratio(self) -> float:
        return self.took_s / self.floor_s if self.floor_s else 0.0

    def row(self) -> str:
        check = "yes" if self.exact else "NO"
        return (
            f"{self.name:<22} {self.channels:>8} {self.floor_s:9.2f} {self.took_s:9.2f} {self.ratio:7.2f}"
            f" {self.http_429:>8} {self.max_in_flight:>9}   {check}"
        )


async def one_run(
    name: str, platform: str, channels: int, rtt_ms: float, workspace_rate: int, *, paced: bool
) -> Result:
    with tempfile.TemporaryDirectory(prefix="sendbot-fanout-") as tmp:
        async with fanout_world(
            Path(tmp), platform, channels=channels, rtt=rtt_ms / 1000, workspace_rate=workspace_rate, paced=paced
        ) as world:
            before = world.http_429  # the adapter's log-in calls are never limited, but be exact
            service = world.service
            started = time.perf_counter()
            summary = await service.deliver_due()
            took = time.perf_counter() - started
            posted = world.posted()
            exact = all(v == [1] for v in posted.values())
            return Result(
                name,
                channels,
                world.floor_s(),
                took,
                world.http_429 - before,
                summary.sent,
                exact,
                service.last_fanout_in_flight,
            )


async def main_async(args: argparse.Namespace) -> int:
    header = (
        f"{'run':<22} {'channels':>8} {'floor_s':>9} {'took_s':>9} {'ratio':>7} {'http_429':>8} {'in flight':>9}"
        "   once each"
    )
    print(
        f"{args.platform}: one item to each channel, round trip {args.rtt_ms:g} ms"
        + (f", workspace rate {args.workspace_rate}/s" if args.platform == "slack" else ", global limit 50/s")
    )
    print(header)
    print("-" * len(header))
    if args.baseline_channels:
        base = await one_run(
            "before (sequential)",
            args.platform,
            min(args.baseline_channels, args.channels),
            args.rtt_ms,
            args.workspace_rate,
            paced=False,
        )
        print(base.row(), flush=True)
    result = await one_run(
        "fan-out (paced)", args.platform, args.channels, args.rtt_ms, args.workspace_rate, paced=True
    )
    print(result.row(), flush=True)
    ok = result.exact and result.sent == args.channels
    print(
        f"platform={args.platform} channels={args.channels} rtt_ms={args.rtt_ms:g} floor_s={result.floor_s:.2f}"
        f" took_s={result.took_s:.2f} ratio={result.ratio:.3f} http_429={result.http_429}"
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", choices=["discord", "slack"], default="discord")
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--rtt-ms", type=float, default=100.0)
    parser.add_argument(
        "--workspace-rate", type=int, default=20, help="Slack posts per second across the workspace (fake and bot)"
    )
    parser.add_argument(
        "--baseline-channels", type=int, default=100, help="channels for the sequential baseline (0: none)"
    )
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
