"""The systemd units in deploy/: `systemd-analyze verify` where the tool exists (skipped,
saying why, where it does not). Only ExecStart's path is changed, to this venv's `sendbot`,
because verify checks that the program exists; every other line is verified as shipped, and
a warning about any of our files (an unknown key, a bad value) fails the test, since verify
itself still exits 0 for those."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import SENDBOT

ROOT = Path(__file__).resolve().parents[2]
UNITS = ["sendbot.service", "sendbot-backup.service", "sendbot-backup.timer"]
# The backup unit's drop-in for PostgreSQL: pg_dump needs the network the unit otherwise lacks.
PG_DROP_IN = "sendbot-backup.service.d/postgresql.conf"
INSTALLED = "/opt/sendbot/venv/bin/sendbot"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / name, encoding="utf-8")
    return parser


def test_the_service_restarts_on_failure_with_an_absolute_data_directory() -> None:
    svc = _unit("sendbot.service")["Service"]
    assert svc["Restart"] == "on-failure"
    assert svc["ExecStart"] == f"{INSTALLED} run"
    assert svc["WorkingDirectory"].startswith("/") and svc["StateDirectory"] == "sendbot"
    lines = (ROOT / "deploy" / "sendbot.service").read_text(encoding="utf-8").splitlines()
    assert "Environment=SENDBOT_STORAGE__PATH=/var/lib/sendbot/sendbot.sqlite3" in lines
    for hardening in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "CapabilityBoundingSet"):
        assert hardening in svc, hardening
    assert svc["User"] == "sendbot"
    backup = _unit("sendbot-backup.service")["Service"]
    assert backup["Type"] == "oneshot" and backup["ExecStart"].startswith(f"{INSTALLED} backup")
    timer = _unit("sendbot-backup.timer")["Timer"]
    assert timer["OnCalendar"] and timer["Persistent"] == "true"


def test_the_postgresql_drop_in_gives_the_backup_the_network_and_the_password_file() -> None:
    base = _unit("sendbot-backup.service")["Service"]
    assert base["PrivateNetwork"] == "yes" and "AF_INET" not in base["RestrictAddressFamilies"]
    svc = _unit(PG_DROP_IN)["Service"]
    assert svc["PrivateNetwork"] == "no"
    assert set(svc["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert svc["Environment"] == "PGPASSWORD_FILE=/etc/sendbot/pg_password"


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here, so the unit files were not verified")
    for name in UNITS:
        text = (ROOT / "deploy" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED, SENDBOT), encoding="utf-8")
    # verify reads a unit's drop-ins from the folder beside it.
    (tmp_path / PG_DROP_IN).parent.mkdir()
    (tmp_path / PG_DROP_IN).write_text((ROOT / "deploy" / PG_DROP_IN).read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [tool, "verify", *(str(tmp_path / n) for n in UNITS)], capture_output=True, text=True, timeout=120
    )
    ours = [line for line in (done.stdout + done.stderr).splitlines() if any(n in line for n in [*UNITS, PG_DROP_IN])]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr
