"""`sendbot status` against a real `sendbot run` serving /healthz on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.processes import SENDBOT, clean_env, console_bot

pytestmark = pytest.mark.slow  # real subprocesses


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SENDBOT, "status", *args], capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60
    )


def test_status_asks_the_running_bot(tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n[feeds]\nenabled = false\n[ops]\nhttp_port = {port}\n',
        encoding="utf-8",
    )
    with console_bot(cfg, tmp_path) as bot:
        deadline = time.monotonic() + 20
        while (done := status(tmp_path, "--config", str(cfg))).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.returncode == 0, done.stderr
        assert f"sendbot is healthy (http://127.0.0.1:{port}/healthz)" in done.stdout
        assert "console: connected" in done.stdout and "database: reachable" in done.stdout
        raw = status(tmp_path, "--url", f"http://127.0.0.1:{port}/healthz", "--json")
        assert raw.returncode == 0 and json.loads(raw.stdout)["status"] == "ok"
    err = bot.log
    assert bot.returncode == 0, err
    assert f"health and metrics on http://127.0.0.1:{port}/healthz" in err
    gone = status(tmp_path, "--config", str(cfg))
    assert gone.returncode == 1 and "no bot answers at" in gone.stderr and "is it running?" in gone.stderr


def test_status_without_a_port_says_how_to_set_one(tmp_path: Path) -> None:
    done = status(tmp_path)
    assert done.returncode == 1 and "[ops] http_port is not set" in done.stderr


def test_a_port_in_use_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n[feeds]\nenabled = false\n[ops]\nhttp_port = {port}\n',
            encoding="utf-8",
        )
        done = subprocess.run(
            [SENDBOT, "run", "--config", str(cfg)],
            input="!help\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=clean_env(),
            timeout=60,
        )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("sendbot:")]
    assert f"[ops] http_port: cannot listen on 127.0.0.1:{port}" in line
