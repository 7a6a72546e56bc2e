"""storage/backup.py on real files: a consistent copy while another process writes, keeping
the newest N, the checks on a file to restore, and a round trip."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.backup import BackupError, backup_into, backups_in, check_backup, copy_database, restore_into
from storage.db import Database, bundled_migrations
from tests.support.writer import Writer, pair_counts

KNOWN = bundled_migrations()[-1].version


async def _sendbot_db(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


async def test_copies_taken_while_another_process_writes_are_consistent_and_restore(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await _sendbot_db(db)
    writer = Writer(db)
    try:
        writer.wait_for_rows(50)
        copies = [copy_database(db, tmp_path / f"copy{i}.sqlite3") for i in range(5)]
        writer.wait_for_rows(pair_counts(db)[0] + 20)  # still writing: the copies blocked nothing
    finally:
        writer.stop()
    seen = []
    for c in copies:
        a, b = pair_counts(c)
        assert a == b and a > 0, (c, a, b)  # never half a transaction
        assert check_backup(c, KNOWN).schema_version == KNOWN
        seen.append(a)
    assert seen == sorted(seen)

    # Round trip: the copy goes back into a database that has moved on; the rows are the copy's.
    restore_into(copies[0], db)
    assert pair_counts(db) == (seen[0], seen[0])
    db2 = await Database.open(db)  # and the bot opens it as usual
    try:
        assert await db2.applied_versions() == [m.version for m in bundled_migrations()]
    finally:
        await db2.close()


async def test_backup_into_a_folder_keeps_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await _sendbot_db(db)
    folder = tmp_path / "backups"
    start = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    made = []
    for day in range(5):
        path, _ = backup_into(folder, db, keep=3, now=start + timedelta(days=day))
        made.append(path)
    assert backups_in(folder) == made[-3:]
    assert made[-1].name == "sendbot-20261105T030000Z.sqlite3"
    (folder / "notes.txt").write_text("not a backup")
    backup_into(folder, db, keep=1, now=start + timedelta(days=9))
    assert [p.name for p in backups_in(folder)] == ["sendbot-20261110T030000Z.sqlite3"]
    assert (folder / "notes.txt").exists()  # only its own copies are ever removed


async def test_check_backup_refuses_what_is_not_a_sendbot_database(tmp_path: Path) -> None:
    note = tmp_path / "note.sqlite3"
    note.write_bytes(b"hello, this is not SQLite at all" * 100)
    with pytest.raises(BackupError, match="not an SQLite database"):
        check_backup(note, KNOWN)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="not sendbot's"):
        check_backup(other, KNOWN)
    newer = tmp_path / "newer.sqlite3"
    await _sendbot_db(newer)
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO schema_migrations(version, name) VALUES (?, 'future')", (KNOWN + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match=f"schema version {KNOWN + 1}; this version knows up to {KNOWN}"):
        check_backup(newer, KNOWN)


async def test_a_damaged_backup_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await _sendbot_db(db)
    copy = copy_database(db, tmp_path / "copy.sqlite3")
    data = bytearray(copy.read_bytes())
    page = 4096
    # Scribble over the second page (a table's b-tree): the header stays, the content is wrong.
    data[page + 8 : page + 200] = b"\xff" * 192
    copy.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"damaged|not an SQLite"):
        check_backup(copy, KNOWN)


def test_no_database_no_backup(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database"):
        copy_database(tmp_path / "missing.sqlite3", tmp_path / "out.sqlite3")
