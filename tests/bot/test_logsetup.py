"""[logging] format = "json" (one object per line) and the interactive console's log file."""

from __future__ import annotations

import json
import logging
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.logsetup import JsonFormatter
from tests.support.processes import SENDBOT, clean_env


def test_json_formatter_writes_one_object_per_line() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.LogRecord("feeds.service", logging.ERROR, __file__, 1, "feed %s: %s", (3, "é"), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "feeds.service" and entry["message"] == "feed 3: é"
    assert entry["time"].endswith("+00:00") and "ValueError: bad" in entry["exc"]


def _config(tmp_path: Path, extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n[feeds]\nenabled = false\n[logging]\nlevel = "INFO"\n{extra}',
        encoding="utf-8",
    )
    return cfg


@pytest.mark.slow
def test_sendbot_run_logs_json_lines(tmp_path: Path) -> None:
    done = subprocess.run(
        [SENDBOT, "run", "--config", str(_config(tmp_path, 'format = "json"\n'))],
        input="!help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "the bot logged nothing at INFO"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any("applied migration" in e["message"] for e in entries)
    assert {"time", "level", "logger", "message"} <= set(entries[0])


@pytest.mark.slow
def test_the_interactive_console_logs_to_a_file_and_shows_only_warnings(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "console.log"
    cfg = _config(tmp_path, f'console_file = "{log_file}"\n')
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SENDBOT, "run", "--config", str(cfg)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env=clean_env(),
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"#general> " not in seen and time.monotonic() < deadline:
            seen += os.read(master, 4096)
        os.write(master, b"!help\n")
        while b"SEND forum bot" not in seen and time.monotonic() < deadline:
            seen += os.read(master, 4096)
        os.write(master, b"\x04")  # Ctrl-D
        proc.wait(timeout=30)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "SEND forum bot" in text
    assert f"the bot's log is in {log_file}" in text
    assert " INFO " not in text and "applied migration" not in text  # INFO went to the file
    assert "applied migration" in log_file.read_text(encoding="utf-8")
