"""`sendbot reports export`, run as the real command (a subprocess) on a real database."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.reports import MOD, cog, make_harness

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`


async def _seed(tmp_path: Path) -> Path:
    """A database with three reports (one before the export window); returns a config file."""
    h = await make_harness(tmp_path)
    try:
        await h.say('!report =HYPERLINK("http://evil.example") the school said EHCPs end', user_id="u1")
        h.clock.advance(days=10)
        await h.say("!report the LA said we must wait six months who=LA", user_id="u2")
        await h.say("!report health said no OT without a plan who=health", user_id="u3")
        await h.say("!reports tag 2 must-wait", **MOD)
        await h.say("!reports note 2 asked the LA", **MOD)
        await cog(h).drain()
        storage = h.storage_toml()
    finally:
        await h.close()
    config = tmp_path / "config.toml"
    config.write_text(storage, encoding="utf-8")
    return config


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SENDBOT_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "reports", "export", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


async def test_export_csv_and_json(tmp_path: Path) -> None:
    config = await _seed(tmp_path)
    res = _run("--since", "2026-12-01", "--config", str(config))  # 27 Nov report is before this
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["id"] for r in rows] == ["2", "3"]
    assert rows[0]["tags"] == "must-wait" and rows[0]["source"] == "LA" and rows[0]["status"] == "open"
    assert "reporter_id" not in rows[0] and "notes" not in rows[0]
    assert "u2" not in res.stdout and "asked the LA" not in res.stdout

    res = _run("--since", "2026-11-01", "--format", "csv", "--include-personal", "--config", str(config))
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["reporter_id"] for r in rows] == ["u1", "u2", "u3"]
    assert "asked the LA" in rows[1]["notes"]
    # A formula in report text is neutralised for spreadsheet programs.
    assert rows[0]["text"].startswith("'=HYPERLINK")

    out = tmp_path / "export.json"
    res = _run("--since", "2026-11-01", "--format", "json", "--output", str(out), "--config", str(config))
    assert res.returncode == 0 and "Wrote 3 report(s)" in res.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["personal_data"] is False and len(data["reports"]) == 3
    assert data["reports"][0]["text"].startswith("=HYPERLINK")  # JSON keeps the text exact
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("since", ["1/12/2026", "1 Dec 2026", "2026-12-1", "2026-12-01"])
async def test_export_reads_dates_as_chat_does(tmp_path: Path, since: str) -> None:
    """Day first, as in !timeline: 1/12/2026 is 1 December, so the 27 Nov report is left out."""
    config = await _seed(tmp_path)
    res = _run("--since", since, "--config", str(config))
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in csv.DictReader(io.StringIO(res.stdout))] == ["2", "3"]


async def test_export_bad_arguments(tmp_path: Path) -> None:
    config = await _seed(tmp_path)
    res = _run("--since", "last week", "--config", str(config))
    assert res.returncode == 2 and "couldn't read 'last week' as a date" in res.stderr
    res = _run("--since", "31/02/2026", "--config", str(config))
    assert res.returncode == 2 and "There is no 31 February 2026" in res.stderr
    res = _run("--since", "2026-11-01", "--format", "xml", "--config", str(config))
    assert res.returncode == 2 and "invalid choice" in res.stderr
    res = _run("--config", str(config))
    assert res.returncode == 2 and "--since" in res.stderr
    res = _run("--since", "2026-11-01", "--output", str(tmp_path), "--config", str(config))
    assert res.returncode == 2 and "is a folder" in res.stderr
    missing = tmp_path / "missing.toml"
    missing.write_text(f'[storage]\npath = "{tmp_path / "nope.sqlite3"}"\n', encoding="utf-8")
    res = _run("--since", "2026-11-01", "--config", str(missing))
    assert res.returncode == 1 and "no database at" in res.stderr
    assert not (tmp_path / "nope.sqlite3").exists()  # export never creates a database
    assert "Traceback" not in res.stderr


def _one_line_error(res: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert res.returncode == code, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stderr.strip().count("\n") == 0, res.stderr  # one line
    assert needle in res.stderr, res.stderr
    assert res.stdout == ""


async def test_export_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    config = await _seed(tmp_path)
    res = _run("--since", "2026-11-01", "--output", "/nonexistent/x.csv", "--config", str(config))
    _one_line_error(res, 2, "cannot write /nonexistent/x.csv: the folder /nonexistent does not exist")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    res = _run("--since", "2026-11-01", "--output", str(a_file / "x.csv"), "--config", str(config))
    _one_line_error(res, 2, "is a file, not a folder")
    res = _run("--since", "2026-11-01", "--output", str(tmp_path), "--config", str(config))
    _one_line_error(res, 2, "is a folder; give a file name")


async def test_export_format_follows_the_file_ending(tmp_path: Path) -> None:
    config = await _seed(tmp_path)
    out = tmp_path / "private.json"
    res = _run("--since", "2026-11-01", "--include-personal", "--output", str(out), "--config", str(config))
    assert res.returncode == 0 and "Wrote 3 report(s)" in res.stderr and "as JSON" in res.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["personal_data"] is True and [r["id"] for r in data["reports"]] == [1, 2, 3]
    out = tmp_path / "reports.CSV"
    res = _run("--since", "2026-11-01", "--output", str(out), "--config", str(config))
    assert res.returncode == 0 and "as CSV" in res.stderr
    assert [r["id"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))] == ["1", "2", "3"]
    # Another ending, or none: CSV unless --format says otherwise.
    out = tmp_path / "reports.txt"
    res = _run("--since", "2026-11-01", "--output", str(out), "--format", "json", "--config", str(config))
    assert res.returncode == 0 and json.loads(out.read_text(encoding="utf-8"))["reports"]
    res = _run("--since", "2026-11-01", "--output", str(tmp_path / "plain"), "--config", str(config))
    assert res.returncode == 0 and (tmp_path / "plain").read_text(encoding="utf-8").startswith("id,created_at")


async def test_export_format_that_contradicts_the_file_ending_is_refused(tmp_path: Path) -> None:
    config = await _seed(tmp_path)
    out = tmp_path / "p.json"
    res = _run("--since", "2026-11-01", "--format", "csv", "--output", str(out), "--config", str(config))
    _one_line_error(res, 2, f"--format csv does not match {out} (a .json file)")
    assert not out.exists()
    res = _run(
        "--since", "2026-11-01", "--format", "json", "--output", str(tmp_path / "p.csv"), "--config", str(config)
    )
    _one_line_error(res, 2, "use --format csv, or name the file .json")


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "last week"],
        ["--since", "31/02/2026"],
        ["--since", "2026-11-01", "--format", "xml"],
        ["--since", "2026-11-01", "--platform", "teams"],
        [],
        ["--since"],
        ["--since", "2026-11-01", "--output"],
        ["--since", "2026-11-01", "--nonsense"],
        ["--since", "9" * 400],
        ["--since", "2026-11-01", "--output", "/nonexistent/x.csv"],
        ["--since", "2026-11-01", "--output", "/proc/version/x.json"],
        ["--since", "2026-11-01", "--format", "csv", "--output", "x.json"],
    ],
)
async def test_no_bad_argument_prints_a_traceback(tmp_path: Path, args: list[str]) -> None:
    config = await _seed(tmp_path)
    res = _run(*args, "--config", str(config))
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stderr.strip()  # says what was wrong


async def test_export_of_a_damaged_database_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db}"\n', encoding="utf-8")
    res = _run("--since", "2026-11-01", "--config", str(config))
    _one_line_error(res, 1, "is damaged")
