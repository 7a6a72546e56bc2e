"""Issue 11: the feed parser's worker processes die with the bot, even after kill -9.

A real subprocess makes the pool (4 workers, as in the report) and warms it, then prints
its own pid and the workers'. The test kills it with SIGKILL, reaps it as a service manager
would (or not yet: a zombie), and expects every process it started (workers, forkserver, resource tracker) gone
within a few seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRACE_SECONDS = 5.0

SCRIPT = """
import asyncio, os, sys, time
sys.path.insert(0, sys.argv[1])
from feeds.parse import Parser

async def main():
    parser = Parser(workers=4)
    await parser.warm()
    print(os.getpid(), *parser.worker_pids(), flush=True)
    time.sleep(300)

asyncio.run(main())
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def state(pid: int) -> str | None:
    """The process's state letter, or None once it is gone (a zombie counts as gone: it has
    exited and holds no memory; only its parent's bookkeeping remains)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    letter = stat.rsplit(b")", 1)[1].split()[0].decode()
    return None if letter in ("Z", "X") else letter


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


@pytest.mark.parametrize("reaped", [True, False], ids=["reaped", "zombie"])
def test_workers_die_when_the_bot_is_killed(reaped: bool) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(ROOT)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    started: set[int] = set()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        bot, *workers = map(int, line.split())
        assert bot == proc.pid and len(workers) == 4
        started = descendants(bot)
        assert set(workers) <= started
        assert all(state(w) for w in workers)  # warmed: every worker is running

        os.kill(bot, signal.SIGKILL)
        if reaped:
            proc.wait(timeout=10)
        # else: the bot stays a zombie (its parent has not collected it yet) while we look.

        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(state(p) for p in started):
            time.sleep(0.1)
        left = {p: state(p) for p in started if state(p)}
        assert not left, f"still running after {GRACE_SECONDS:g} s: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in started:  # never leave them behind, whatever the result
            if state(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
