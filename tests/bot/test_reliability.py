"""Issue 11: start-up failures, one bot per database, migrations racing, storage faults,
graceful stops, what a crash leaves behind (unsure notices, pending deletes) and privacy residue.
The crash tests proper (kill -9 and SIGTERM mid-delivery) are in tests/feeds/test_crash_delivery.py."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.logsetup import setup_logging
from bot.model import ChannelRef, Reply
from storage.db import Database, InstanceLocked, bundled_migrations, describe_error
from tests.support.feeds import make
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness, RecordingMessenger
from tests.support.processes import SENDBOT, clean_env

NO_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def sendbot_run(
    tmp_path: Path, db: Path, *, as_user: bool = False, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db}"\n\n[feeds]\nenabled = false\n', encoding="utf-8")
    command = [SENDBOT, "run", "--config", str(config)]
    if as_user and os.geteuid() == 0:
        command = [*NO_OVERRIDE, "--", *command]
    return subprocess.run(
        command, cwd=tmp_path, env=clean_env(), input="!help\n", capture_output=True, text=True, timeout=timeout
    )


# -- start-up failures -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_damaged_database_stops_start_up_with_one_line_and_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    db.write_bytes(b"this is not a database, it is a note someone saved over it" * 50)
    started = time.monotonic()
    result = sendbot_run(tmp_path, db)
    assert result.returncode == 1
    assert time.monotonic() - started < 20  # it exits: nothing keeps a dead process alive
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("sendbot:")]
    assert lines == [
        f"sendbot: {db} is damaged (not a readable SQLite database): restore it from a backup, or move it away"
    ]


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="as root, needs setpriv")
def test_a_read_only_database_left_by_a_crash_stops_start_up_instead_of_hanging(tmp_path: Path) -> None:
    """The trial's case: -wal and -shm left by a crash, then the disk remounted read-only."""
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "bot.sqlite3"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL');"
            " c.execute('CREATE TABLE t(x)'); c.execute('INSERT INTO t VALUES (1)'); c.commit();"
            " print('ready', flush=True); time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        writer.kill()  # a crash: the -wal and -shm files stay
        writer.wait()
    finally:
        if writer.poll() is None:
            writer.kill()
    assert (folder / "bot.sqlite3-wal").exists()
    for f in folder.iterdir():
        f.chmod(0o444)
    folder.chmod(0o555)
    try:
        result = sendbot_run(tmp_path, db, as_user=True)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert any(
        line.startswith(f"sendbot: {db}") and "start sendbot again" in line for line in result.stderr.splitlines()
    )


def test_storage_errors_read_as_what_to_do() -> None:
    path = "/srv/sendbot/bot.sqlite3"
    cases = {
        "database or disk is full": "is full: free some space",
        "attempt to write a readonly database": "cannot be written",
        "database is locked": "is locked by another process",
        "file is not a database": "is damaged",
        "database disk image is malformed": "is damaged",
        "unable to open database file": "cannot be opened",
    }
    for message, expected in cases.items():
        line = describe_error(path, sqlite3.OperationalError(message))
        assert path in line and expected in line and "\n" not in line, line


# -- one bot per database ---------------------------------------------------------------------


@pytest.mark.slow
async def test_a_second_bot_on_the_same_database_exits_1_naming_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    first = await Database.open(db, exclusive=True)
    try:
        result = await asyncio.to_thread(sendbot_run, tmp_path, db)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert f"in use by another sendbot (pid {os.getpid()})" in result.stderr
        with pytest.raises(InstanceLocked):
            await Database.open(db, exclusive=True)
    finally:
        await first.close()
    # Released when the first closes: the next bot starts.
    again = await Database.open(db, exclusive=True)
    await again.close()


@pytest.mark.slow
def test_two_processes_creating_a_new_database_together_both_succeed(tmp_path: Path) -> None:
    """Before, one crashed on "table feeds already exists": applied migrations were read
    outside the migration's transaction."""
    db = tmp_path / "fresh.sqlite3"
    opener = (
        "import asyncio, sys; from storage.db import Database\n"
        "async def go():\n"
        "    d = await Database.open(sys.argv[1])\n"
        "    await d.close()\n"
        "asyncio.run(go()); print('opened')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", opener, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0 and out.strip() == "opened", err
    with sqlite3.connect(db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in bundled_migrations()]


# -- storage faults -------------------------------------------------------------------------------


async def test_a_full_disk_backs_off_the_whole_poller_instead_of_refetching(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = feed_server.set("/snj", rss(snj_entries(2)))
    h = await make(tmp_path)
    try:
        service = h.core.cogs["feeds"].service  # type: ignore[attr-defined]
        await h.say(f"!feeds add {url}", moderator=True)
        feed_server.set("/snj", rss(snj_entries(3)))  # something new, so the fetch must be recorded
        await service.store.db.execute("UPDATE feeds SET next_fetch_at = '2000-01-01T00:00:00Z'")
        fetches_before = len(feed_server.hits("/snj"))

        async def full(*args: Any, **kwargs: Any) -> Any:
            raise sqlite3.OperationalError("database or disk is full")

        service.store.ingest = full  # every write of a fetch fails, as on a full disk
        service.store.record_unchanged = full
        service.store.record_failure = full
        caplog.set_level(logging.WARNING, logger="feeds.service")
        task = asyncio.create_task(service.run_forever())
        await asyncio.sleep(2.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        fetches = len(feed_server.hits("/snj")) - fetches_before
        assert fetches == 1, f"{fetches} fetches in 2 s: the poller should wait after a storage error"
        assert service.storage_backoff == 60
        warnings = [r for r in caplog.records if r.name == "feeds.service"]
        assert len(warnings) == 1 and not warnings[0].exc_info
        assert "is full: free some space" in warnings[0].getMessage()
        assert "waits 60 s" in warnings[0].getMessage()
    finally:
        await h.close()


# -- stopping mid-send, and what a crash leaves ----------------------------------------------------


class SlowMessenger(RecordingMessenger):
    """Posts take as long as the test says (a send in flight when the bot is stopped)."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.unsure_flags: list[bool] = []

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        self.unsure_flags.append(unsure)
        self.started.set()
        await self.release.wait()
        return await super().post(channel, reply, nonce=nonce, unsure=unsure)


async def test_a_stop_lets_the_send_in_flight_finish_and_records_it(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    cog = h.core.cogs["feeds"]
    service = cog.service  # type: ignore[attr-defined]
    await h.say(f"!feeds add {url} latest=1", moderator=True)
    slow = SlowMessenger("console")
    h.core.register_messenger(slow)
    task = asyncio.create_task(service.run_forever())
    cog._task = task  # type: ignore[attr-defined]  # as on_start does when serving
    await asyncio.wait_for(slow.started.wait(), 10)
    stopping = asyncio.create_task(h.core.stop_work())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waiting for the send, not cutting it off
    slow.release.set()
    await asyncio.wait_for(stopping, 15)
    rows = await h.core.db.fetchall("SELECT status, sending_at FROM feed_deliveries WHERE kind = 'post'")
    assert [(r["status"], r["sending_at"]) for r in rows] == [("sent", None)]
    assert len([s for s in slow.sent if s.kind == "post"]) == 1
    await h.core.close()


async def test_a_delivery_cut_off_by_a_crash_is_retried_as_unsure_when_the_platform_connects(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url} latest=1", moderator=True)
        service = h.core.cogs["feeds"].service  # type: ignore[attr-defined]
        # As a kill -9 mid-send leaves it: marked in flight, due only much later.
        await h.core.db.execute(
            "UPDATE feed_deliveries SET sending_at = '2026-11-27T11:59:00Z', next_attempt_at = '2099-01-01T00:00:00Z'"
        )
        messenger = SlowMessenger("console")
        messenger.release.set()
        h.core.register_messenger(messenger)
        assert (await service.deliver_due()).sent == 0  # not due yet by its time
        await service.platform_ready("console")
        summary = await service.deliver_due()
        assert summary.sent == 1 and messenger.unsure_flags == [True]
        rows = await h.core.db.fetchall("SELECT status, sending_at FROM feed_deliveries")
        assert [(r["status"], r["sending_at"]) for r in rows] == [("sent", None)]
    finally:
        await h.close()


async def test_a_report_notice_cut_off_by_a_crash_goes_as_unsure_when_the_platform_connects(tmp_path: Path) -> None:
    from tests.support.reports import cog, make_harness

    h = await make_harness(tmp_path)
    try:
        await h.say("!report the school said he must wait a year", user_id="u1")
        await cog(h).drain()
        # As if the bot died while posting it: marked in flight, not recorded as sent.
        await h.core.db.execute(
            "UPDATE reports SET announce_status = 'sending', announce_sending_at = created_at, announce_attempts = 0"
        )
        messenger = SlowMessenger("console")
        messenger.release.set()
        h.core.register_messenger(messenger)
        h.core.serving = True
        await cog(h).on_platform_ready("console")
        assert messenger.unsure_flags == [True]
        report = await cog(h).repo.get(1)
        assert report is not None and report.announce_status == "sent" and not report.announce_unsure
    finally:
        await h.close()


async def test_a_private_command_message_left_up_by_a_crash_is_removed_when_the_platform_connects(
    tmp_path: Path,
) -> None:
    h = await Harness.create(tmp_path)
    try:
        await h.core.pending_deletes.add("console", "console", "general", "m-42", h.core.now())
        messenger = h.messengers["console"]
        h.core.platform_ready("console")
        for _ in range(100):
            if not await h.core.pending_deletes.for_platform("console"):
                break
            await asyncio.sleep(0.01)
        assert [s.message_id for s in messenger.sent if s.kind == "delete"] == ["m-42"]
        assert await h.core.pending_deletes.for_platform("console") == []
    finally:
        await h.close()


async def test_a_public_report_records_its_delete_before_the_command_runs(tmp_path: Path) -> None:
    """The delete is recorded first, so a crash while the report is stored cannot leave the
    parent's message (maybe with a phone number) up for good."""
    from tests.support.reports import cog, make_harness

    h = await make_harness(tmp_path)
    try:
        seen: list[int] = []
        original = cog(h).repo.create_within_limit

        async def spy(*args: Any, **kwargs: Any) -> Any:
            seen.append(len(await h.core.pending_deletes.for_platform("console")))
            return await original(*args, **kwargs)

        cog(h).repo.create_within_limit = spy  # type: ignore[method-assign]
        outcome = await h.outcome("!report call me on 07700 900123", user_id="u1")
        assert outcome.delete_trigger
        assert seen == [1]  # recorded before the report was stored
        [pending] = await h.core.pending_deletes.for_platform("console")
        # The adapter removes it and says so: nothing is left pending.
        await h.core.trigger_deleted("console", "general", pending.message_id)
        assert await h.core.pending_deletes.for_platform("console") == []
    finally:
        await h.close()


# -- privacy residue ---------------------------------------------------------------------------


def files_holding(folder: Path, text: str) -> list[Path]:
    """The database files (main, -wal, -shm) under `folder` that contain `text` anywhere."""
    return [p for p in folder.rglob("*.sqlite3*") if text.encode() in p.read_bytes()]


async def test_forgotten_report_text_is_gone_from_the_database_its_wal_and_the_debug_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.support.reports import cog, make_harness

    secret = "Zebediah-Quartermaine-4417"
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("aiosqlite").level)
    setup_logging("DEBUG")  # as `[logging] level = "DEBUG"` does: SQL loggers must stay quiet
    try:
        h = await make_harness(tmp_path)
        try:
            assert (await h.core.db.fetchone("PRAGMA secure_delete"))[0] == 1  # type: ignore[index]
            await h.say(f"!report the head told {secret} he cannot go on the trip", user_id="u1", direct=True)
            await cog(h).drain()
            for _ in range(15):
                await h.say("!help")
            await h.say("!forgetme confirm", user_id="u1", direct=True, channel="dm-u1")
            assert files_holding(tmp_path, secret) == []  # database and -wal, while running
        finally:
            await h.close()
        assert files_holding(tmp_path, secret) == []
        out, err = capfd.readouterr()
        assert secret not in out + err
        assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.WARNING
    finally:
        root.handlers[:], level, sql_level = saved
        root.setLevel(level)
        logging.getLogger("aiosqlite").setLevel(sql_level)


async def test_a_receipt_cut_off_by_a_crash_is_sent_privately_when_the_platform_connects(tmp_path: Path) -> None:
    from tests.support.reports import cog, make_harness

    h = await make_harness(tmp_path)
    try:
        # Delivered normally: the adapter confirms, nothing is pending.
        await h.say("!report the school said no ehcp without a diagnosis", user_id="u1")
        # Cut off: stored, but the bot died before the answer went out (no delivered()).
        cut = await h.core.dispatcher.handle(h.incoming("!report the LA said we must wait a year", user_id="u2"))
        assert cut is not None and cut.status == "ok"
        await cog(h).drain()
        assert [r.receipt_pending for r in await cog(h).repo.for_reporter("console", "u1")] == [False]
        assert [r.receipt_pending for r in await cog(h).repo.for_reporter("console", "u2")] == [True]
        h.core.serving = True
        h.clock.advance(minutes=5)  # the next start comes later
        await cog(h).on_platform_ready("console")
        direct = [s for s in h.messengers["console"].sent if s.kind == "direct"]
        assert [(s.user_id, "reached the moderators" in s.reply.text) for s in direct] == [("u2", True)]  # type: ignore[union-attr]
        await cog(h).on_platform_ready("console")  # once only, whatever happens next
        assert len([s for s in h.messengers["console"].sent if s.kind == "direct"]) == 1
    finally:
        await h.close()
