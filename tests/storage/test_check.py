"""Issue 11: `sendbot check` looks at the database, so a file that `sendbot run` could not
use is named, with what to do, before the bot is started (not as a traceback at run time).

Real SQLite files throughout: a garbage file, a truncated database, a damaged page, a
read-only file or folder, a database locked by another process, and one with a migration
this code does not have. The permission cases run the installed `sendbot check` as a real
subprocess; as root (which may write anything) without the capabilities that let it."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.checks import run_checks
from bot.config import parse
from storage.check import check_database
from storage.db import Database, bundled_migrations
from tests.support.processes import SENDBOT, clean_env


def make_database(path: Path, rows: int = 0) -> Path:
    """A database as the bot makes it (WAL, every migration), with some audit rows."""

    async def go() -> None:
        db = await Database.open(path)
        try:
            for _ in range(rows):
                await db.execute(
                    "INSERT INTO audit_log(platform, scope_id, actor_id, actor_name, action, detail)"
                    " VALUES ('console', 's', 'u', 'n', 'a', ?)",
                    ("x" * 500,),
                )
        finally:
            await db.close()

    asyncio.run(go())
    return path


def one_problem(path: Path | str) -> str:
    problems = check_database(str(path))
    assert len(problems) == 1, problems
    [problem] = problems
    assert problem.startswith("storage.path: ") and "\n" not in problem
    assert str(path) in problem
    return problem


# -- fine ---------------------------------------------------------------------------------


def test_a_missing_file_is_fine_and_nothing_is_created(tmp_path: Path) -> None:
    assert check_database(str(tmp_path / "sendbot.sqlite3")) == []
    assert check_database(str(tmp_path / "data" / "deeper" / "sendbot.sqlite3")) == []
    assert list(tmp_path.iterdir()) == []


def test_a_healthy_database_passes_and_is_left_as_it_was(tmp_path: Path) -> None:
    path = make_database(tmp_path / "sendbot.sqlite3", rows=20)
    before = (path.read_bytes(), sorted(p.name for p in tmp_path.iterdir()))
    assert check_database(str(path)) == []
    assert (path.read_bytes(), sorted(p.name for p in tmp_path.iterdir())) == before  # no -wal, -shm


def test_the_check_is_registered_with_sendbot_check(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(os.urandom(4096))
    problems, _ = run_checks(parse({"storage": {"path": str(garbage)}}, environ={}))
    assert any(p.startswith("storage.path: ") and "not an SQLite database" in p for p in problems)


# -- not usable -----------------------------------------------------------------------------


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "sendbot.sqlite3"
    path.write_bytes(b"these are someone's notes, not a database\n" * 100)
    problem = one_problem(path)
    assert "is not an SQLite database" in problem and "move this file away" in problem


def test_a_truncated_database(tmp_path: Path) -> None:
    path = make_database(tmp_path / "sendbot.sqlite3", rows=200)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    problem = one_problem(path)
    assert "is damaged" in problem and "restore it from a backup" in problem


def test_a_damaged_page(tmp_path: Path) -> None:
    path = make_database(tmp_path / "sendbot.sqlite3", rows=200)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    # The last table leaf page (its first byte is 0x0D): spoil its header.
    last_leaf = max(n for n in range(1, len(data) // page) if data[n * page] == 0x0D)
    data[last_leaf * page : last_leaf * page + 8] = b"\x07" * 8
    path.write_bytes(bytes(data))
    assert "is damaged" in one_problem(path)


def test_a_database_from_a_newer_sendbot(tmp_path: Path) -> None:
    path = make_database(tmp_path / "sendbot.sqlite3")
    newest = max(m.version for m in bundled_migrations())
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations(version, name) VALUES (?, 'from_the_future')", (newest + 1,))
    conn.close()
    problem = one_problem(path)
    assert f"schema version {newest + 1}" in problem and f"knows up to {newest}" in problem
    assert "newer sendbot" in problem


def test_a_database_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "sendbot.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t(x)")
    conn.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        problem = one_problem(path)
        assert "is locked by another process" in problem
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    assert check_database(str(path)) == []  # free again


def test_a_folder_where_the_file_should_be(tmp_path: Path) -> None:
    (tmp_path / "sendbot.sqlite3").mkdir()
    assert "is a folder, not a database file" in one_problem(tmp_path / "sendbot.sqlite3")


def test_a_file_where_the_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    problem = one_problem(tmp_path / "data" / "sendbot.sqlite3")
    assert "cannot be created" in problem and f"{tmp_path / 'data'} is a file" in problem


# -- permissions: through the real `sendbot check` ---------------------------------------------

NO_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
needs_permissions = pytest.mark.skipif(
    os.geteuid() == 0 and not shutil.which("setpriv"), reason="as root, needs setpriv to drop CAP_DAC_OVERRIDE"
)


def sendbot_check(tmp_path: Path, db: Path) -> tuple[int, list[str]]:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db}"\n', encoding="utf-8")
    command = [SENDBOT, "check", "--config", str(config)]
    if os.geteuid() == 0:  # root may read and write anything: check as an ordinary user would
        command = [*NO_OVERRIDE, "--", *command]
    done = subprocess.run(command, cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    problems = [line for line in done.stdout.splitlines() if line.startswith("problem: storage.path: ")]
    return done.returncode, problems


@pytest.fixture
def restore_modes(tmp_path: Path):
    yield
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)


@needs_permissions
def test_cli_read_only_file(tmp_path: Path, restore_modes: None) -> None:
    db = make_database(tmp_path / "data" / "sendbot.sqlite3")
    db.chmod(0o444)
    code, problems = sendbot_check(tmp_path, db)
    assert code == 1 and len(problems) == 1, problems
    assert f"{db} cannot be written" in problems[0] and "make it writable" in problems[0]


@needs_permissions
def test_cli_unreadable_file(tmp_path: Path, restore_modes: None) -> None:
    db = make_database(tmp_path / "data" / "sendbot.sqlite3")
    db.chmod(0o000)
    code, problems = sendbot_check(tmp_path, db)
    assert code == 1 and len(problems) == 1, problems
    assert f"{db} cannot be read" in problems[0]


@needs_permissions
def test_cli_read_only_folder(tmp_path: Path, restore_modes: None) -> None:
    db = make_database(tmp_path / "data" / "sendbot.sqlite3")
    db.parent.chmod(0o555)
    code, problems = sendbot_check(tmp_path, db)
    assert code == 1 and len(problems) == 1, problems
    assert f"{db} cannot be used: its folder {db.parent} cannot be written" in problems[0]


@needs_permissions
def test_cli_folder_that_cannot_be_created(tmp_path: Path, restore_modes: None) -> None:
    parent = tmp_path / "readonly"
    parent.mkdir()
    parent.chmod(0o555)
    db = parent / "data" / "sendbot.sqlite3"
    code, problems = sendbot_check(tmp_path, db)
    assert code == 1 and len(problems) == 1, problems
    assert f"{db} cannot be created: the folder {db.parent} does not exist and cannot be created" in problems[0]
    # The file itself in a folder that exists but is read-only:
    code, problems = sendbot_check(tmp_path, parent / "sendbot.sqlite3")
    assert code == 1 and f"cannot be created: the folder {parent} cannot be written" in problems[0]


def test_cli_garbage_file_and_a_good_one(tmp_path: Path) -> None:
    db = tmp_path / "sendbot.sqlite3"
    db.write_bytes(os.urandom(8192))
    code, problems = sendbot_check(tmp_path, db)
    assert code == 1 and len(problems) == 1 and "is not an SQLite database" in problems[0]
    db.unlink()
    make_database(db)
    assert sendbot_check(tmp_path, db) == (0, [])


@needs_permissions
def test_cli_folder_that_cannot_be_searched(tmp_path: Path, restore_modes: None) -> None:
    db = make_database(tmp_path / "data" / "sendbot.sqlite3")
    db.parent.chmod(0o000)
    code, problems = sendbot_check(tmp_path, db)
    assert code == 1 and len(problems) == 1, problems
    assert f"{db} cannot be reached" in problems[0]
