"""The content commands through `sendbot ask` and `sendbot check` as real subprocesses."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from cogs.content.model import CONTENT_DIR

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`

REPO = Path(__file__).resolve().parents[3]


def write_config(tmp_path: Path, extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[storage]
path = "{tmp_path / "data" / "bot.sqlite3"}"

[console]
attachments_dir = "{tmp_path / "attachments"}"

[feeds]
enabled = false
{extra}
"""
    )
    return cfg


def sendbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_ask_timeline_appeal_prints_dates_and_saves_the_calendar(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    result = sendbot("ask", "--config", str(cfg), "!timeline appeal 31/12/2026")
    assert result.returncode == 0, result.stderr
    # 31 Dec 2026 + 2 months = Sun 28 Feb 2027 -> Mon 1 Mar 2027.
    assert "Mon 1 Mar 2027" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    marker = "Attachment saved: "
    saved = [line.split(marker, 1)[1] for line in result.stdout.splitlines() if marker in line]
    assert len(saved) == 1
    path = Path(saved[0])
    assert path.parent == tmp_path / "attachments" and path.suffix == ".ics"
    cal = Calendar.from_ical(path.read_bytes())
    [event] = list(cal.walk("VEVENT"))
    assert event.decoded("dtstart").isoformat() == "2027-03-01"


def test_ask_rights_and_changes(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    result = sendbot("ask", "--config", str(cfg), "!rights do I need a diagnosis")
    assert result.returncode == 0, result.stderr
    assert "No diagnosis is needed" in result.stdout
    assert "https://www.legislation.gov.uk/ukpga/2014/6/section/36" in result.stdout
    assert "SENDIASS" in result.stdout
    result = sendbot("ask", "--config", str(cfg), "!changes")
    assert result.returncode == 0 and "until Parliament changes them" in result.stdout


def test_ask_with_a_bad_date_exits_2_with_a_message(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    result = sendbot("ask", "--config", str(cfg), "!timeline appeal 31/02/2026")
    assert result.returncode == 2
    assert "There is no 31 February 2026" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_warns_about_stale_content(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    rights = content / "rights.toml"
    rights.write_text(rights.read_text().replace("reviewed = 2026-11-28", "reviewed = 2020-01-01", 1))
    cfg = write_config(tmp_path, f'\n[content]\ndirectory = "{content}"\n')
    result = sendbot("check", "--config", str(cfg))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: content: rights.toml entry 'ehc-needs-assessment' was last reviewed on 2020-01-01" in result.stdout
    rights.write_text(rights.read_text().replace('url = "https://www.gov.uk/', 'url = "ftp://www.gov.uk/', 1))
    result = sendbot("check", "--config", str(cfg))
    assert result.returncode == 1
    assert "problem: content:" in result.stdout and "not an absolute https URL" in result.stdout


def test_ask_with_invalid_content_stops_with_the_problems_not_a_traceback(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    (content / "timeline.toml").write_text('[[section]]\nid = "Bad Id"\n')
    cfg = write_config(tmp_path, f'\n[content]\ndirectory = "{content}"\n')
    result = sendbot("ask", "--config", str(cfg), "!rights")
    assert result.returncode == 1
    assert "the content files have problems" in result.stderr
    assert "timeline.toml: section 'Bad Id'.id" in result.stderr
    assert "Traceback" not in result.stderr
