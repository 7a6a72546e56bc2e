"""The benchmark runs end to end at a tiny size (its figures are not asserted here)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real subprocesses (and timing loops): left out of `make test-fast`

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
        "dated_ratio",
        "latency_ratio",
        "lag_max_ms",
        "lag_p99_ms",
        "command_ms",
        "command_p99_ms",
        "pss_mb",
        "peak_mb",
        "db_mb",
    ]
    assert last.startswith("feeds=5 ")
    text = out.decode()
    # Each scenario ran in the pipeline and in the naive baseline (the run asserts the posts).
    for name in ("cold", "steady", "dated", "latency"):
        assert any(line.startswith(name + " ") for line in text.splitlines()), name
    for name in ("steady", "dated", "latency"):
        assert any(line.startswith(f"baseline {name} ") for line in text.splitlines()), name
    assert "1 posted" in text


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


def test_bench_parse_cost_runs_and_its_cached_parse_equals_the_whole_one() -> None:
    # In process: the module asserts the cached parse equals the whole one before timing.
    from bench.parse_cost import main

    assert main(["--repeats", "2"]) == 0
