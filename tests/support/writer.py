"""A process that keeps writing to an SQLite database, for backups taken while the bot writes.

Each transaction adds one row to each of two tables with the same id, so a consistent copy has
the same rows in both: a copy caught half-way through a transaction would not."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("CREATE TABLE IF NOT EXISTS pair_a (id INTEGER PRIMARY KEY, pad TEXT)")
conn.execute("CREATE TABLE IF NOT EXISTS pair_b (id INTEGER PRIMARY KEY, pad TEXT)")
print("ready", flush=True)
n = 0
while True:
    n += 1
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO pair_a(pad) VALUES (?)", ("x" * 500,))
    time.sleep(0.001)  # the transaction stays open a moment: a torn copy would show
    conn.execute("INSERT INTO pair_b(pad) VALUES (?)", ("y" * 500,))
    conn.execute("COMMIT")
"""


class Writer:
    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"
        self.db = db

    def wait_for_rows(self, at_least: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pair_counts(self.db)[0] >= at_least:
                return
            time.sleep(0.02)
        raise AssertionError(f"the writer did not reach {at_least} rows")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def pair_counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        (a,) = conn.execute("SELECT COUNT(*) FROM pair_a").fetchone()
        (b,) = conn.execute("SELECT COUNT(*) FROM pair_b").fetchone()
        return int(a), int(b)
    finally:
        conn.close()
