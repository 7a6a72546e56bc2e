"""Running the installed `sendbot` command as a real subprocess, as an admin would."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

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
