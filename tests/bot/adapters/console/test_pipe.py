"""Issue 11: `sendbot … | head` must end quietly when the reader closes the pipe early.

The `sendbot` command runs as a real subprocess whose stdout is a pipe with no reader left
(the read end is closed before it writes, as `head` does once it has its lines), so the
first write fails with EPIPE every time, not only when the output is large."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import SENDBOT, clean_env

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`

SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


def run_into_closed_pipe(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    try:
        return subprocess.run(
            [SENDBOT, *args],
            cwd=cwd,
            env=clean_env(),
            stdin=subprocess.DEVNULL if stdin is None else None,
            input=stdin,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "!reports correct 1 ehcp"],
        ["ask", "!help"],
        ["check"],
    ],
)
def test_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    done = run_into_closed_pipe(args, tmp_path)
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr == ""
    assert done.returncode == SIGPIPE_EXIT


def test_output_still_arrives_when_the_pipe_stays_open(tmp_path: Path) -> None:
    done = subprocess.run(
        [SENDBOT, "ask", "!help"],
        cwd=tmp_path,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and b"commands" in done.stdout
