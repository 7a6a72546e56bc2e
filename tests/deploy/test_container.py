"""The Dockerfile's CMD and HEALTHCHECK, run outside Docker: the same command lines with the
image's environment, /data replaced by a temporary folder, against a loopback fake Discord.
And a real `docker build` where a Docker daemon answers (skipped, saying why, elsewhere)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.dockerfile import parse_dockerfile
from tests.support.fakes.discord_fake import GUILD_ID, FakeDiscord
from tests.support.processes import SENDBOT, clean_env

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = parse_dockerfile(ROOT / "Dockerfile")


def test_the_image_keeps_its_data_in_the_volume_and_runs_as_a_user() -> None:
    d = DOCKERFILE
    assert d.base == "python:3.11-slim"
    assert d.volumes == ["/data"] and d.workdir == "/data"
    assert d.user == "sendbot"
    assert d.env["SENDBOT_STORAGE__PATH"] == "/data/sendbot.sqlite3"
    assert d.env["SENDBOT_OPS__HTTP_HOST"] == "127.0.0.1" and d.env["SENDBOT_OPS__HTTP_PORT"]
    assert all(not v.startswith("/") or v.startswith("/data/") for k, v in d.env.items() if k.startswith("SENDBOT_"))
    assert d.cmd == ["sendbot", "run"]
    assert d.healthcheck == ["sendbot", "status"]
    assert {"interval", "timeout", "start-period", "retries"} <= set(d.healthcheck_options)
    # The files the image copies exist (a build would fail on a missing one).
    for name in ("pyproject.toml", "README.md", "LICENSE", "constraints.txt", "bot", "cogs", "feeds", "storage"):
        assert (ROOT / name).exists(), name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _image_env(data: Path, **extra: str) -> dict[str, str]:
    env = clean_env(**{k: v.replace("/data", str(data), 1) for k, v in DOCKERFILE.env.items()})
    env.update(extra)
    return env


async def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return subprocess.CompletedProcess(command, proc.returncode or 0, out.decode(), err.decode())


def _local(command: list[str]) -> list[str]:
    """The image's `sendbot` is this venv's."""
    return [SENDBOT if command[0] == "sendbot" else command[0], *command[1:]]


@pytest.mark.slow
async def test_cmd_and_healthcheck_outside_docker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    fake = await FakeDiscord.start()
    # The port is the only change to the image's settings: 8080 may be taken on this machine.
    env = _image_env(
        data,
        SENDBOT_OPS__HTTP_PORT=str(_free_port()),
        DISCORD_TOKEN="x",
        SENDBOT_DISCORD__API_BASE_URL=fake.api_base_url,
        SENDBOT_DISCORD__GATEWAY_URL=fake.gateway_url,
        SENDBOT_DISCORD__GUILD_IDS=f"[{GUILD_ID}]",
        SENDBOT_FEEDS__ENABLED="false",  # no fetching from the internet in a test
    )
    health = _local(DOCKERFILE.healthcheck)
    before = await _run(health, env, data)
    assert before.returncode == 1 and "no bot answers" in before.stderr  # not started yet: unhealthy

    proc = await asyncio.create_subprocess_exec(
        *_local(DOCKERFILE.cmd), env=env, cwd=data, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await fake.wait_identified()
        async with asyncio.timeout(30):
            # Polling is the point: the health check is another process's answer.
            while (done := await _run(health, env, data)).returncode != 0:  # noqa: ASYNC110
                await asyncio.sleep(0.3)
        assert "sendbot is healthy" in done.stdout and "discord: connected" in done.stdout
        assert (data / "sendbot.sqlite3").is_file()  # the data is in the volume
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.close()
    after = await _run(health, env, data)
    assert after.returncode == 1


def _docker_works() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed"
    try:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`docker info` failed ({e})"
    if info.returncode != 0:
        why = (info.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"no Docker daemon answers `docker info` ({why})"
    return None


@pytest.mark.slow
def test_the_image_builds_where_docker_works() -> None:
    why = _docker_works()
    if why is not None:
        pytest.skip(f"cannot build the image here: {why}")
    tag = f"sendbot-test:{os.getpid()}"
    build = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        version = subprocess.run(
            ["docker", "run", "--rm", tag, "sendbot", "--version"], capture_output=True, text=True, timeout=120
        )
        assert version.returncode == 0 and version.stdout.startswith("sendbot ")
        # No token and no terminal: the bot says so and exits 1, rather than exiting 0 in a loop.
        bare = subprocess.run(["docker", "run", "--rm", tag], capture_output=True, text=True, timeout=120)
        assert bare.returncode == 1 and "no platform is configured" in bare.stderr
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)
