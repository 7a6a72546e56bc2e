"""Issue 16: a database set up by a newer sendbot is refused (both versions named), and a copy
is made beside an existing database before any migration changes it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database, Migration, SchemaTooNew, bundled_migrations, describe_error
from tests.support.processes import run_sendbot

FIRST = bundled_migrations()[0]
KNOWN = bundled_migrations()[-1].version


async def test_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    await db.execute("INSERT INTO schema_migrations(version, name) VALUES (?, 'from_the_future')", (KNOWN + 3,))
    await db.close()
    with pytest.raises(SchemaTooNew) as caught:
        await Database.open(path)
    line = describe_error(str(path), caught.value)
    assert "\n" not in line
    assert f"schema version {KNOWN + 3}" in line and f"knows up to {KNOWN}" in line and str(path) in line


async def test_an_existing_database_is_backed_up_before_a_migration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.sqlite3"
    old = [Migration(1, "initial", FIRST.sql)]
    db = await Database.open(path, migrations=old)
    await db.execute("CREATE TABLE kept (v TEXT)")
    await db.execute("INSERT INTO kept VALUES ('before')")
    await db.close()

    newer = [*old, Migration(2, "add_thing", "CREATE TABLE thing (id INTEGER PRIMARY KEY);")]
    with caplog.at_level("INFO", logger="storage.db"):
        db = await Database.open(path, migrations=newer)
    await db.close()
    bak = tmp_path / "bot.sqlite3.pre-0002.bak"
    assert bak.is_file()
    assert f"backed up {path} to {bak}" in caplog.text
    copy = sqlite3.connect(bak)
    try:
        assert copy.execute("SELECT v FROM kept").fetchall() == [("before",)]
        assert [r[0] for r in copy.execute("SELECT version FROM schema_migrations")] == [1]
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        tables = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "thing" not in tables
    finally:
        copy.close()


async def test_no_backup_for_a_new_database_or_when_nothing_is_pending(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    await db.close()
    db = await Database.open(path)
    await db.close()
    assert _backups(tmp_path) == []


def _backups(folder: Path) -> list[Path]:
    return list(folder.glob("*.bak"))


@pytest.mark.slow
def test_sendbot_run_refuses_a_newer_database_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'future', '2030-01-01')", (KNOWN + 1,))
    conn.commit()
    conn.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\npath = "{path}"\n[feeds]\nenabled = false\n', encoding="utf-8")
    done = run_sendbot("run", "--config", str(cfg), cwd=tmp_path, input="!help\n")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("sendbot:")]
    assert lines == [
        f"sendbot: {path} was set up by a newer sendbot (schema version {KNOWN + 1}; this version knows up to"
        f" {KNOWN}): run that newer version, or restore a backup made with this one (sendbot restore FILE)"
    ]
