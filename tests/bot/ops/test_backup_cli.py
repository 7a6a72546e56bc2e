"""`sendbot backup` and `sendbot restore` as an admin runs them: real subprocesses, a real
database being written by another process, and a running `sendbot run` holding the lock."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from storage.backup import backups_in
from tests.support.processes import SENDBOT, clean_env, console_bot
from tests.support.writer import Writer, pair_counts

pytestmark = pytest.mark.slow  # real subprocesses


def _config(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "data" / "bot.sqlite3"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\npath = "{db}"\n[feeds]\nenabled = false\n', encoding="utf-8")
    return cfg, db


def sendbot(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SENDBOT, *args], input=stdin, capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60
    )


def test_backup_while_writing_then_restore_round_trip(tmp_path: Path) -> None:
    cfg, db = _config(tmp_path)
    assert sendbot(tmp_path, "run", "--config", str(cfg), stdin="!help\n").returncode == 0  # creates it
    writer = Writer(db)
    try:
        writer.wait_for_rows(30)
        first = sendbot(tmp_path, "backup", "--config", str(cfg), "--keep", "2")
        assert first.returncode == 0, first.stderr
        time.sleep(1.1)  # the copies are named by the second
        for _ in range(2):
            done = sendbot(tmp_path, "backup", "--config", str(cfg), "--keep", "2")
            assert done.returncode == 0, done.stderr
            time.sleep(1.1)
        one = sendbot(tmp_path, "backup", "--config", str(cfg), "--to", str(tmp_path / "one.sqlite3"))
        assert one.returncode == 0, one.stderr
    finally:
        writer.stop()
    copies = backups_in(db.parent / "backups")
    assert len(copies) == 2 and "removed 1 older copy (keeping 2)" in done.stdout
    assert f"Backed up {db} to " in first.stdout
    for c in [*copies, tmp_path / "one.sqlite3"]:
        a, b = pair_counts(c)
        assert a == b and a >= 30

    chosen = copies[0]
    expected = pair_counts(chosen)
    assert pair_counts(db) != expected  # the database moved on after that copy
    restored = sendbot(tmp_path, "restore", "--config", str(cfg), str(chosen))
    assert restored.returncode == 0, restored.stderr
    assert f"Restored {chosen}" in restored.stdout and f"{db}.pre-restore.bak" in restored.stdout
    assert pair_counts(db) == expected
    assert pair_counts(Path(f"{db}.pre-restore.bak"))[0] > expected[0]  # what was there is kept
    again = sendbot(tmp_path, "run", "--config", str(cfg), stdin="!help\n")
    assert again.returncode == 0 and "SEND forum bot: commands" in again.stdout


def test_restore_is_refused_while_a_bot_runs_and_for_a_file_that_is_not_sendbots(tmp_path: Path) -> None:
    cfg, db = _config(tmp_path)
    assert sendbot(tmp_path, "run", "--config", str(cfg), stdin="!help\n").returncode == 0
    assert sendbot(tmp_path, "backup", "--config", str(cfg)).returncode == 0
    [copy] = backups_in(db.parent / "backups")

    with console_bot(cfg, tmp_path):  # running, and holding the lock
        refused = sendbot(tmp_path, "restore", "--config", str(cfg), str(copy))
        assert refused.returncode == 1
        assert (
            "in use by another sendbot (pid" in refused.stderr and "restore while the bot is stopped" in refused.stderr
        )
        assert not Path(f"{db}.pre-restore.bak").exists()

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database " * 300)
    bad = sendbot(tmp_path, "restore", "--config", str(cfg), str(junk))
    assert bad.returncode == 1 and "not an SQLite database" in bad.stderr
    assert sendbot(tmp_path, "restore", "--config", str(cfg), str(copy)).returncode == 0


def test_force_is_refused_on_sqlite_and_changes_nothing(tmp_path: Path) -> None:
    cfg, db = _config(tmp_path)
    backup = tmp_path / "b.sqlite3"
    backup.write_bytes(b"")
    done = sendbot(tmp_path, "restore", "--config", str(cfg), str(backup), "--force")
    assert done.returncode == 2 and "--force is for PostgreSQL" in done.stderr
    assert not db.exists()
