"""Issue 16: `sendbot run` with no platform and no console input (stdin is /dev/null, as under
systemd or in a container without `-i`) is a start-up failure with one line, not a clean exit
that a supervisor would restart for ever. Piped input and a terminal keep working."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.processes import run_sendbot

pytestmark = pytest.mark.slow  # real subprocesses


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n[feeds]\nenabled = false\n', encoding="utf-8")
    return cfg


def _sendbot_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("sendbot:")]


def test_stdin_devnull_and_no_platform_exits_1_with_one_line(tmp_path: Path) -> None:
    done = run_sendbot("run", "--config", str(_config(tmp_path)), cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = _sendbot_lines(done.stderr)
    assert "no platform is configured" in line and "stdin is /dev/null" in line and "DISCORD_TOKEN" in line
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching the database


def test_an_empty_pipe_is_refused_too(tmp_path: Path) -> None:
    done = run_sendbot("run", "--config", str(_config(tmp_path)), cwd=tmp_path, input="")
    assert done.returncode == 1
    [line] = _sendbot_lines(done.stderr)
    assert "stdin ended before any line" in line


def test_an_empty_file_as_stdin_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with empty.open() as f:
        done = run_sendbot("run", "--config", str(_config(tmp_path)), cwd=tmp_path, stdin=f)
    assert done.returncode == 1
    assert "stdin is an empty file" in done.stderr


def test_piped_commands_still_answer_and_exit_0(tmp_path: Path) -> None:
    done = run_sendbot("run", "--config", str(_config(tmp_path)), cwd=tmp_path, input="!help\n")
    assert done.returncode == 0, done.stderr
    assert "SEND forum bot: commands" in done.stdout
    assert _sendbot_lines(done.stderr) == []
