"""Retention: closed reports lose their text after `retention_days`; open ones never do.
Also the background task's start rules and the storage details retention relies on."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import parse
from cogs.reports import check
from tests.support.reports import MOD, cog, make_harness


async def test_retention_erases_closed_reports_after_the_configured_days(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = await make_harness(tmp_path, reports={"retention_days": 30})
    try:
        await h.say("!report resolved claim with 07700 900123", user_id="u1")
        await h.say("!report dismissed claim", user_id="u2")
        await h.say("!report still open claim", user_id="u3")
        await h.say("!reports note 1 checked with the school", **MOD)
        await h.say("!reports tag 1 must-wait", **MOD)
        await h.say("!reports resolve 1 corrected", **MOD)
        h.clock.advance(days=5)
        await h.say("!reports dismiss 2 duplicate", **MOD)

        await cog(h).drain()
        announced = {
            int(s.reply.card.title.split("#")[1]): s.message_id
            for s in h.sent("console")
            if s.kind == "post" and s.reply and s.reply.card
        }
        h.clock.advance(days=29)  # #1 closed 34 days ago, #2 29 days ago
        with caplog.at_level(logging.INFO, logger="cogs.reports"):
            counts = await cog(h).apply_retention()
        assert (counts.reports, counts.notes) == (1, 1)
        deleted = [s.message_id for s in h.sent("console") if s.kind == "delete"]
        assert deleted == [announced[1]]  # the announcement quoting #1 is gone
        assert "erased 1 closed report(s) and 1 note(s) older than 30 days" in caplog.text
        assert "resolved claim" not in caplog.text  # counts only, never content

        repo = cog(h).repo
        one, two, three = await repo.get(1), await repo.get(2), await repo.get(3)
        assert one is not None and one.text is None and one.resolution is None and one.reporter_id is None
        assert one.erased == "retention" and one.status == "resolved" and one.tags == ("must-wait",)
        assert await repo.notes(1) == []
        assert two is not None and two.text == "dismissed claim"
        assert three is not None and three.text == "still open claim"
        assert "deleted after the retention period" in await h.say_text("!reports show 1", **MOD)

        h.clock.advance(days=2)
        assert (await cog(h).apply_retention()).reports == 1  # now #2
        h.clock.advance(days=3650)
        assert (await cog(h).apply_retention()).reports == 0  # open reports are kept; erased ones not redone
        still = await repo.get(3)
        assert still is not None and still.text == "still open claim"
    finally:
        await h.close()


async def test_maintenance_task_runs_only_when_serving(tmp_path: Path) -> None:
    h = await make_harness(tmp_path)
    try:
        assert not any(t.get_name() == "reports-maintenance" for t in h.core._tasks)
    finally:
        await h.close()
    from tests.support.harness import Harness

    h2 = await Harness.create(tmp_path / "serving", cog_modules=["cogs.reports"], start=False)
    h2.core.serving = True
    await h2.core.start()
    try:
        [task] = [t for t in h2.core._tasks if t.get_name() == "reports-maintenance"]
        assert not task.done()
    finally:
        await h2.close()
    assert task.cancelled()


def test_check_warns_without_moderator_channels_and_rejects_duplicates() -> None:
    problems, warnings = check(parse({}, environ={}))
    assert problems == [] and "moderator_channels is empty" in warnings[0]
    dup = {"platform": "slack", "scope": "T1", "channel": "C1"}
    problems, warnings = check(parse({"reports": {"moderator_channels": [dup, dup]}}, environ={}))
    assert problems == ["reports.moderator_channels: slack scope T1 is listed twice"] and warnings == []


async def test_notes_and_closing_text_are_refused_after_erasure_and_retention_clears_them(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, reports={"retention_days": 30})
    try:
        await h.say("!report the school said x", user_id="p1")
        await h.say("!report another claim", user_id="p2")
        await cog(h).drain()
        await h.say("!forgetme confirm", user_id="p1")
        refused = await h.outcome("!reports note 1 spoke to Jane Smith, mum of Tom", **MOD)
        assert refused.status == "user_error" and "deleted" in refused.replies[0].text
        refused = await h.outcome("!reports resolve 1 Jane Smith called back", **MOD)
        assert refused.status == "user_error" and "deleted" in refused.replies[0].text
        assert "is resolved" in await h.say_text("!reports resolve 1", **MOD)  # closing without text is fine

        # Data that got in anyway (older versions, or a race) goes at the next erasure.
        await h.core.db.execute("UPDATE reports SET resolution = 'Jane Smith called back' WHERE id = 1")
        await h.core.db.execute(
            "INSERT INTO report_notes(report_id, at, moderator_id, moderator_name, text)"
            " VALUES (1, '2026-01-01T00:00:00Z', 'm1', 'Mod Maya', 'spoke to Jane Smith')"
        )
        repo = cog(h).repo
        assert await repo.add_note(1, at=h.clock(), moderator_id="m1", moderator_name="M", text="t") == 0
        h.clock.advance(days=400)
        counts = await cog(h).apply_retention()
        assert counts.reports == 0 and counts.notes == 1  # #1 was already erased; its late note went
        rows = await h.core.db.fetchall("SELECT resolution FROM reports WHERE id = 1")
        assert rows[0]["resolution"] is None
        assert await h.core.db.fetchall("SELECT * FROM report_notes") == []
    finally:
        await h.close()
