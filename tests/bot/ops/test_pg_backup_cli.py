"""`sendbot backup` and `sendbot restore` with `[storage] url` (PostgreSQL) as an admin runs them:
real subprocesses, the real pg_dump / pg_restore, the throwaway PostgreSQL server, and the
password handed in as a Docker secret file (PGPASSWORD_FILE)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from storage.pg_backup import dumps_in
from tests.support.backends import PgCluster
from tests.support.processes import SENDBOT, clean_env

pytestmark = pytest.mark.slow  # real subprocesses

SECRET = "Very-Secret-pw-42"


def _sql(url: str, sql: str) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def sendbot(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / f"config-{abs(hash(url))}.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "data" / "x.sqlite3"}"\nurl = "{url}"\n', encoding="utf-8")
    secret = tmp_path / "pg_password"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    done = subprocess.run(
        [SENDBOT, args[0], "--config", str(cfg), *args[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(PGPASSWORD_FILE=str(secret)),
        timeout=120,
    )
    assert SECRET not in done.stdout + done.stderr
    return done


def test_backup_then_restore_into_an_empty_and_then_a_used_database(pg: PgCluster, tmp_path: Path) -> None:
    source = pg.new_database()
    _sql(source, "INSERT INTO bot_state(key, value, updated_at) VALUES ('k', 'v1', 'now')")
    folder = tmp_path / "backups"
    first = sendbot(tmp_path, source, "backup", "--to", f"{folder}/", "--keep", "1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Backed up {source} to {folder}/sendbot-")
    (dump,) = dumps_in(folder)

    empty = pg.empty_database()
    done = sendbot(tmp_path, empty, "restore", str(dump))
    assert done.returncode == 0, done.stderr
    assert "it is empty" in done.stdout and "Restored" in done.stdout
    assert [tuple(r) for r in _sql(empty, "SELECT key, value FROM bot_state")] == [("k", "v1")]

    _sql(empty, "UPDATE bot_state SET value = 'changed'")
    refused = sendbot(tmp_path, empty, "restore", str(dump))
    assert refused.returncode == 1
    assert "already has" in refused.stderr and "--force" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert [tuple(r) for r in _sql(empty, "SELECT value FROM bot_state")] == [("changed",)]

    forced = sendbot(tmp_path, empty, "restore", str(dump), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Replacing the" in forced.stdout and "kept at" in forced.stdout
    assert [tuple(r) for r in _sql(empty, "SELECT value FROM bot_state")] == [("v1",)]
    kept = tmp_path / "data" / "backups" / f"pre-restore-{dump.stem}.dump"
    assert kept.read_bytes()[:5] == b"PGDMP"


def test_one_line_when_the_server_cannot_be_reached(tmp_path: Path) -> None:
    done = sendbot(tmp_path, "postgresql://sendbot@127.0.0.1:1/sendbot", "backup")
    assert done.returncode == 1
    assert done.stderr.startswith("sendbot backup: cannot reach postgresql://sendbot@127.0.0.1:1/sendbot")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.fixture
def password_server(tmp_path: Path) -> Iterator[str]:
    """A server of this test's own that checks passwords (scram-sha-256), unlike the shared
    one (trust): the URL of its `postgres` database, whose password is SECRET."""
    import os
    import shutil
    import tempfile

    from tests.support.backends import pg_unavailable
    from tests.support.postgres import _free_port, find_bin, why_unavailable

    reason = why_unavailable()
    if reason is not None:
        pg_unavailable(reason)
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="sendbot-pgpw-"))
    pwfile = base / "pw"
    pwfile.write_text(SECRET + "\n", encoding="utf-8")
    if run_as:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    assert initdb and pg_ctl
    port = _free_port()
    data = str(base / "data")
    subprocess.run(
        [*run_as, initdb, "-D", data, "-A", "scram-sha-256", "-U", "postgres", f"--pwfile={pwfile}"],
        check=True,
        capture_output=True,
    )
    opts = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run_as, pg_ctl, "-D", data, "-o", opts, "-l", str(base / "log"), "-w", "start"], check=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_pg_dump_gets_the_password_from_the_secret_file(password_server: str, tmp_path: Path) -> None:
    done = sendbot(tmp_path, password_server, "backup", "--to", str(tmp_path / "one.dump"))
    assert done.returncode == 0, done.stderr  # pg_dump authenticated with PGPASSWORD_FILE's text
    assert (tmp_path / "one.dump").read_bytes()[:5] == b"PGDMP"

    (tmp_path / "pg_password").write_text("wrong\n", encoding="utf-8")
    wrong = subprocess.run(
        [SENDBOT, "backup", "--config", str(next(tmp_path.glob("config-*.toml"))), "--to", str(tmp_path / "two.dump")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(PGPASSWORD_FILE=str(tmp_path / "pg_password")),
        timeout=120,
    )
    assert wrong.returncode == 1
    assert "refused the password: set PGPASSWORD (or PGPASSWORD_FILE)" in wrong.stderr
    assert len(wrong.stderr.splitlines()) == 1 and not (tmp_path / "two.dump").exists()
