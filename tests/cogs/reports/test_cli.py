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
        db_path = h.core.db.path
    finally:
        await h.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
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
