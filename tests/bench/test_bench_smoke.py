"""The benchmark runs end to end at a tiny size (its figures are not asserted here)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`

ROOT = Path(__file__).resolve().parents[2]


async def test_bench_feeds_runs_with_five_feeds() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.feeds",
        "--feeds",
        "5",
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    last = out.decode().strip().splitlines()[-1]
    keys = [pair.split("=")[0] for pair in last.split()]
    assert keys == [
        "feeds",
        "cold_s",
        "steady_s",
        "baseline_steady_s",
        "steady_ratio",
        "lag_max_ms",
        "lag_p99_ms",
        "command_ms",
        "peak_mb",
    ]
    assert last.startswith("feeds=5 ")
    assert "steady" in out.decode() and "posted (expected 1)" in out.decode()


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_bench_fanout_runs_with_twenty_channels(platform: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.fanout",
        "--platform",
        platform,
        "--channels",
        "20",
        "--rtt-ms",
        "10",
        "--baseline-channels",
        "5",
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    lines = out.decode().strip().splitlines()
    assert any(line.startswith("before (sequential)") for line in lines)
    pairs = dict(pair.split("=") for pair in lines[-1].split())
    assert list(pairs) == ["platform", "channels", "rtt_ms", "floor_s", "took_s", "ratio", "http_429"]
    assert pairs["platform"] == platform and pairs["channels"] == "20"
