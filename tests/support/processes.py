"""Running the installed `sendbot` command as a real subprocess, as an admin would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SENDBOT = str(Path(sys.executable).parent / "sendbot")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any sendbot, Discord or Slack settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDBOT_", "DISCORD_", "SLACK_"))}
    env.update(extra)
    return env


async def start_run(config: Path, *, cwd: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`sendbot run --config CONFIG` with no stdin and stdout/stderr piped."""
    return await asyncio.create_subprocess_exec(
        SENDBOT,
        "run",
        "--config",
        str(config),
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def run_sendbot(*args: str, cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`sendbot <args>` as a real subprocess with a clean environment, text output captured;
    `kwargs` choose its standard input (`input=`, `stdin=`)."""
    return subprocess.run(
        [SENDBOT, *args], capture_output=True, text=True, cwd=cwd, env=clean_env(), timeout=60, **kwargs
    )


async def run_cli(*args: str, cwd: Path, root: Path) -> tuple[int, str, str]:
    """`python -m bot.cli <args>` from the checkout at `root`, stdin closed: (exit code, out, err)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


@dataclass
class RunningBot:
    """A `sendbot run` started by `console_bot`; `returncode` and `log` (its stderr) are set
    once it has ended."""

    proc: subprocess.Popen[str]
    returncode: int | None = None
    log: str = ""


@contextlib.contextmanager
def console_bot(cfg: Path, cwd: Path) -> Iterator[RunningBot]:
    """A `sendbot run` console bot on `cfg`, already past start-up (it answered `!help`), so it
    holds its database and any port. On leaving, its input is closed and it is waited for."""
    proc = subprocess.Popen(
        [SENDBOT, "run", "--config", str(cfg)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=clean_env(),
        text=True,
    )
    bot = RunningBot(proc)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("!help\n")
        proc.stdin.flush()
        assert "SEND forum bot" in proc.stdout.readline()  # running
        yield bot
    finally:
        _, bot.log = proc.communicate(timeout=30)
        bot.returncode = proc.returncode
