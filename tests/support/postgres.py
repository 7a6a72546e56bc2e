"""A throwaway PostgreSQL server on loopback for the tests (recipe: ../shared/design.md,
"PostgreSQL in tests"): initdb into a temporary folder, pg_ctl start on a free port, one
server for the whole session; each test gets its own database, copied from a template that
already has the schema (CREATE DATABASE ... TEMPLATE is a file copy: a few milliseconds).

The server refuses to run as root, so as root (CI) the folder belongs to `postgres` and the
commands run through `runuser -u postgres`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bin(name: str) -> str | None:
    """initdb / pg_ctl on PATH, else in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def why_unavailable() -> str | None:
    """None if a server can be started here, else why not (shown as the skip reason).
    SENDBOT_TEST_NO_POSTGRES=1 pretends it is not installed (to see the skip, or CI's failure)."""
    if os.environ.get("SENDBOT_TEST_NO_POSTGRES"):
        return "SENDBOT_TEST_NO_POSTGRES is set"
    if find_bin("initdb") is None or find_bin("pg_ctl") is None:
        return "PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql)"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _no_user("postgres")):
        return "running as root without a `postgres` user to run the server as"
    return None


def _no_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server: `url(dbname)` connects as the superuser `postgres` (trust auth)."""

    dir: Path
    port: int
    _as: list[str]

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @classmethod
    def start(cls) -> PostgresServer:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        assert initdb and pg_ctl, why_unavailable()
        run_as: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        base = Path(tempfile.mkdtemp(prefix="sendbot-pg-"))
        if run_as:
            shutil.chown(base, "postgres", "postgres")
        data = base / "data"
        port = _free_port()
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-locale", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        server = cls(base, port, run_as)
        opts = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        return server

    def stop(self) -> None:
        pg_ctl = find_bin("pg_ctl")
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(
                [*self._as, str(pg_ctl), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
