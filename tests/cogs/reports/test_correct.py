"""Issue 14: a correction is chosen by its exact topic id, previewed privately and posted only
when confirmed; and a parent who asked is told what happened to their report.

Through the command harness (the real dispatcher, cogs and SQLite) and the console adapter.
Buttons are pressed here the way every adapter presses them: `Dispatcher.choose(incoming,
token)`, with the token from the reply's `Choice`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.choices import EXPIRED, NOT_YOURS
from bot.dispatcher import Outcome
from bot.messenger import DeliveryError
from bot.model import Choice, Reply
from tests.support.harness import Harness, reply_text
from tests.support.reports import MOD, cog, make_harness

TOPIC = "part-time-timetables"
# The claim from the issue: the fuzzy matcher once posted the wrong card for it.
FREE_TEXT = "how long can they keep him on reduced time"


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    try:
        yield harness
    finally:
        await harness.close()


def posts_in(h: Harness, channel: str) -> list[Reply]:
    return [
        s.reply
        for s in h.sent("console")
        if s.kind == "post" and s.channel and s.channel.channel_id == channel and s.reply
    ]


def directs(h: Harness, user_id: str = "u1") -> list[str]:
    return [reply_text(s.reply) for s in h.sent("console") if s.kind == "direct" and s.user_id == user_id and s.reply]


async def press(h: Harness, choice: Choice, **who: object) -> Outcome:
    """Press a button as an adapter does: only the token goes to the core."""
    incoming = h.incoming("", surface="action", **{**MOD, **who})  # type: ignore[arg-type]
    outcome = await h.core.dispatcher.choose(incoming, choice.token)
    await outcome.delivered()
    return outcome


def button(reply: Reply, label: str) -> Choice:
    return next(c for c in reply.choices if c.label == label)


async def report(h: Harness, text: str = "the school said he can stay on reduced time", **kw: object) -> None:
    out = await h.outcome(f"!report {text}", user_id="u1", name="Parent Pat", **kw)
    assert out.status == "ok", out.replies
    await cog(h).drain()


# -- 1. corrections are previewed and confirmed -------------------------------------------


async def test_free_text_lists_close_topics_with_their_ids_and_posts_nothing(h: Harness) -> None:
    await report(h)
    [reply] = await h.say(f"!reports correct 1 {FREE_TEXT}", **MOD)
    text = reply_text(reply)
    assert reply.ephemeral
    assert "is not a topic id, so I won't guess" in text
    assert f"- {TOPIC}: Part-time (reduced) timetables" in text
    assert "!reports correct 1 <id>" in text and "Nothing has been posted" in text
    assert TOPIC in [c.label for c in reply.choices]
    assert posts_in(h, "general") == []
    # Pressing a topic shows its card privately, with Confirm and Cancel: still nothing posted.
    out = await press(h, button(reply, TOPIC))
    [preview] = out.replies
    assert preview.ephemeral and preview.card is not None and preview.card.title == "Part-time (reduced) timetables"
    assert [c.label for c in preview.choices] == ["Confirm", "Cancel"]
    assert posts_in(h, "general") == []
    # Confirm posts exactly that card where the claim was seen.
    done = await press(h, button(preview, "Confirm"))
    assert f"Posted the {TOPIC} correction in #general" in reply_text(done.replies[0])
    [posted] = posts_in(h, "general")
    assert posted.card == preview.card


async def test_an_exact_id_shows_the_card_privately_then_confirm_posts_it_once(h: Harness) -> None:
    await report(h)
    [preview] = await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    text = reply_text(preview)
    assert preview.ephemeral and "Preview, only you can see this" in text and "#general" in text
    assert f"!reports correct 1 {TOPIC} confirm" in text
    assert posts_in(h, "general") == []
    assert not [a for a in await h.core.audit.recent("console", "console") if a.action == "report.correct"]

    out = await press(h, button(preview, "Confirm"))
    assert out.status == "ok" and f"Posted the {TOPIC} correction in #general" in reply_text(out.replies[0])
    [posted] = posts_in(h, "general")
    assert posted.card == preview.card and "legislation.gov.uk" in reply_text(posted)
    stored = await cog(h).repo.get(1)
    assert stored is not None and stored.correction_topic == TOPIC and stored.corrected_at is not None
    audit = [a for a in await h.core.audit.recent("console", "console") if a.action == "report.correct"]
    assert [(a.target, a.detail, a.actor_name) for a in audit] == [("report #1", f"topic {TOPIC}", "Mod Maya")]

    # Pressed again (a double click), or Cancel after it: the offer is used up.
    again = await press(h, button(preview, "Confirm"))
    assert again.status == "user_error" and EXPIRED in reply_text(again.replies[0])
    cancel = await press(h, button(preview, "Cancel"))
    assert cancel.status == "user_error"
    assert len(posts_in(h, "general")) == 1


async def test_typed_confirm_needs_the_preview_first_and_takes_the_same_offer(h: Harness) -> None:
    await report(h)
    early = await h.outcome(f"!reports correct 1 {TOPIC} confirm", **MOD)
    assert early.status == "user_error" and "Please look at the card first" in reply_text(early.replies[0])
    assert posts_in(h, "general") == []
    [preview] = await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    # A different topic's confirm does not take this preview.
    other = await h.outcome("!reports correct 1 exclusions confirm", **MOD)
    assert other.status == "user_error" and posts_in(h, "general") == []
    text = await h.say_text(f"!reports correct 1 {TOPIC} confirm", **MOD)
    assert f"Posted the {TOPIC} correction in #general" in text
    # The button of the same preview is used up by the typed confirm.
    late = await press(h, button(preview, "Confirm"))
    assert late.status == "user_error"
    assert len(posts_in(h, "general")) == 1


async def test_cancel_posts_nothing_and_uses_up_confirm(h: Harness) -> None:
    await report(h)
    [preview] = await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    out = await press(h, button(preview, "Cancel"))
    assert "Cancelled. Nothing was posted for report #1" in reply_text(out.replies[0])
    assert (await press(h, button(preview, "Confirm"))).status == "user_error"
    assert posts_in(h, "general") == []


async def test_only_the_moderator_who_asked_can_press_and_only_in_time(h: Harness) -> None:
    await report(h)
    [preview] = await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    other = await press(h, button(preview, "Confirm"), user_id="m2", name="Mod Mo")
    assert other.status == "user_error" and NOT_YOURS in reply_text(other.replies[0])
    parent = await press(h, button(preview, "Confirm"), user_id="u1", moderator=False)
    assert parent.status == "user_error"
    assert posts_in(h, "general") == []
    # Someone else's press leaves it for the moderator, until it runs out.
    h.clock.advance(minutes=11)
    late = await press(h, button(preview, "Confirm"))
    assert late.status == "user_error" and EXPIRED in reply_text(late.replies[0])
    assert posts_in(h, "general") == []


async def test_a_forged_token_does_nothing(h: Harness) -> None:
    await report(h)
    forged = Choice("reports.correct.confirm", "Confirm", "not-a-real-token")
    out = await press(h, forged)
    assert out.status == "user_error" and EXPIRED in reply_text(out.replies[0])
    assert posts_in(h, "general") == []


async def test_dismissed_and_resolved_reports_are_refused_until_reopened(h: Harness) -> None:
    await report(h)
    await report(h, "the council said we must wait a year")
    await h.say("!reports dismiss 1 not a claim", **MOD)
    refused = await h.outcome(f"!reports correct 1 {TOPIC}", **MOD)
    assert refused.status == "user_error"
    assert "Report #1 was dismissed, so I won't post a correction" in reply_text(refused.replies[0])
    assert "!reports reopen 1" in reply_text(refused.replies[0])

    # Previewed while open, resolved before the press: the press is refused too.
    [preview] = await h.say("!reports correct 2 assessment-timescales", **MOD)
    await h.say("!reports resolve 2", **MOD)
    late = await press(h, button(preview, "Confirm"))
    assert late.status == "user_error" and "Report #2 is already resolved" in reply_text(late.replies[0])
    assert posts_in(h, "general") == []

    # Reopened: the correction can go ahead, and the reopening is audited.
    assert "Report #2 is open again" in await h.say_text("!reports reopen 2", **MOD)
    assert "open already" in await h.say_text("!reports reopen 2", **MOD)
    await h.say("!reports correct 2 assessment-timescales", **MOD)
    assert "Posted the" in await h.say_text("!reports correct 2 assessment-timescales confirm", **MOD)
    audit = {(a.action, a.target, a.detail) for a in await h.core.audit.recent("console", "console", limit=50)}
    assert ("report.reopen", "report #2", "was resolved") in audit
    reopened = await cog(h).repo.get(2)
    assert reopened is not None and reopened.status == "open" and reopened.closed_at is None


async def test_the_console_previews_then_posts_on_a_typed_confirm(h: Harness) -> None:
    """The scripted console (one command a line): the preview, then the same line with confirm."""
    out = io.StringIO()
    console = ConsoleAdapter(h.core, out=out)
    await console.ask("!report school said he can stay on reduced time for ever notify=yes")
    await cog(h).drain()
    await console.ask(f"!reports correct 1 {FREE_TEXT}")
    await console.ask(f"!reports correct 1 {TOPIC}")
    shown = out.getvalue()
    assert f"- {TOPIC}: Part-time (reduced) timetables" in shown
    assert "(only you can see this)\nPreview, only you can see this." in shown
    assert "Buttons on Discord and Slack: [Confirm]  [Cancel]" in shown
    assert "The moderators are sharing this" not in shown  # nothing posted yet
    await console.ask(f"!reports correct 1 {TOPIC} confirm")
    shown = out.getvalue()
    assert "[#general] ℹ️ The moderators are sharing this" in shown
    assert f"Posted the {TOPIC} correction in #general" in shown
    # Part 2 on the console: the parent asked, so they get a private message with the card.
    assert "[private message] Hello. The moderators posted a correction about your report #1 in #general" in shown
    assert shown.count("┌ Part-time (reduced) timetables") == 3  # preview, post, the parent's message


# -- 2. closing the loop -------------------------------------------------------------------


async def test_a_parent_who_asked_is_told_each_outcome_in_plain_words(h: Harness) -> None:
    await report(h, "they said wait a year notify=yes")
    await report(h, "the school said EHCPs are ending who=school notify=yes")
    await report(h, "they said no help until diagnosis notify=yes")
    stored = await cog(h).repo.get(2)
    assert stored is not None and stored.notify_outcome and stored.text == "the school said EHCPs are ending"
    assert stored.source == "school"
    assert "Parent told of the outcome\nYes, they asked" in await h.say_text("!reports show 2", **MOD)

    resolved = await h.say_text("!reports resolve 1 spoke to them", **MOD)
    assert "I told the parent who reported it in a private message, as they asked" in resolved
    dismissed = await h.say_text("!reports dismiss 2 duplicate", **MOD)
    assert "I told the parent" in dismissed
    await h.say("!reports correct 3 ehc-needs-assessment", **MOD)
    assert "I told the parent" in await h.say_text("!reports correct 3 ehc-needs-assessment confirm", **MOD)

    told = directs(h)
    assert told[0].startswith("Hello. The moderators have dealt with your report #1.")
    assert "spoke to them" not in told[0]  # the moderators' note stays with the moderators
    assert "decided that nothing needs to be done this time" in told[1] and "duplicate" not in told[1]
    assert "posted a correction about your report #3 in #general" in told[2]
    assert "Asking for an EHC needs assessment" in told[2] and "legislation.gov.uk" in told[2]
    assert all("!myreports" in t for t in told)


async def test_a_parent_who_did_not_ask_is_not_messaged(h: Harness) -> None:
    await report(h)
    text = await h.say_text("!reports resolve 1", **MOD)
    assert "told the parent" not in text and "couldn't send" not in text
    assert directs(h) == []


async def test_the_receipt_button_asks_to_be_told(h: Harness) -> None:
    [receipt] = await h.say("!report they said wait a year", user_id="u1")
    assert "Would you like a private message when the moderators deal with it?" in receipt.text
    ask = button(receipt, "Tell me what happens")
    # Only the parent who reported can press it.
    other = await press(h, ask, user_id="u9", moderator=False)
    assert other.status == "user_error" and NOT_YOURS in reply_text(other.replies[0])
    out = await press(h, ask, user_id="u1", moderator=False)
    assert "I will send you a private message when the moderators deal with report #1" in reply_text(out.replies[0])
    stored = await cog(h).repo.get(1)
    assert stored is not None and stored.notify_outcome
    await h.say("!reports dismiss 1", **MOD)
    assert "decided that nothing needs to be done" in directs(h)[0]
    # With notify=yes the receipt says so and has no button.
    [second] = await h.say("!report another claim notify=yes", user_id="u1")
    assert "I will send you a private message" in second.text and second.choices == ()


async def test_a_message_that_cannot_be_delivered_is_logged_and_the_moderator_told(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await report(h, "they said wait a year notify=yes")

    async def closed(scope_id: str, user_id: str, reply: Reply) -> str:
        raise DeliveryError(f"discord channel dm:{user_id}: 403 Cannot send messages to this user", permanent=True)

    h.messengers["console"].send_direct = closed  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        out = await h.outcome("!reports resolve 1", **MOD)
    assert out.status == "ok"
    text = reply_text(out.replies[0])
    assert "Report #1 is resolved" in text
    assert "I couldn't send the parent who reported it a private message" in text
    assert "report #1: could not tell the reporter the outcome (DeliveryError)" in caplog.text
    assert "u1" not in caplog.text  # the parent's id is not logged
    report_row = await cog(h).repo.get(1)
    assert report_row is not None and report_row.status == "resolved"


async def test_the_flag_is_erased_with_the_report(h: Harness) -> None:
    await report(h, "first claim notify=yes")
    await h.say("!report second claim notify=yes", user_id="u2")
    await h.say("!report third claim notify=yes", user_id="u3")
    await h.say("!forgetme confirm", user_id="u1")
    await h.say("!reports purge-user u2", **MOD)
    await h.say("!reports resolve 3", **MOD)
    h.clock.advance(days=200)
    await cog(h).repo.apply_retention(closed_before=h.core.now(), at=h.core.now())
    for n in (1, 2, 3):
        row = await cog(h).repo.get(n)
        assert row is not None and row.erased is not None and not row.notify_outcome
    # An erased report cannot be asked about again.
    assert not await cog(h).repo.ask_for_outcome(1, "console", "u1")


async def test_a_correction_for_a_report_by_direct_message_is_recorded_and_told(h: Harness) -> None:
    await h.say("!report the LA told me there's a 6000 rule notify=yes", direct=True, channel="dm-u1", user_id="u1")
    [preview] = await h.say("!reports correct 1 assessment-timescales", **MOD)
    assert "came by direct message" in preview.text and [c.label for c in preview.choices] == ["Confirm", "Cancel"]
    out = await press(h, button(preview, "Confirm"))
    assert "Recorded the assessment-timescales correction for report #1" in reply_text(out.replies[0])
    assert out.replies[0].card is not None and "20 weeks" in out.replies[0].card.body
    assert posts_in(h, "dm-u1") == [] and posts_in(h, "general") == []
    assert "Here is what the law and guidance say" in directs(h)[0]


# -- issue 14 leftovers: one correction per report, one message to the parent ---------------


async def test_a_report_already_corrected_is_not_corrected_again(h: Harness) -> None:
    await report(h, "they said wait a year notify=yes")
    [preview] = await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    # A second preview taken before the first was confirmed: its Confirm must not post again.
    [second] = await h.say("!reports correct 1 ehc-needs-assessment", **MOD)
    assert (await press(h, button(preview, "Confirm"))).status == "ok"
    before = await cog(h).repo.get(1)

    for text in (f"!reports correct 1 {TOPIC}", "!reports correct 1 ehc-needs-assessment"):
        answer = await h.say_text(text, **MOD)
        assert answer.startswith(f"Report #1 already has a correction ({TOPIC}), so I won't post another."), answer
        assert "Nothing changed." in answer
    late = await press(h, button(second, "Confirm"))
    assert late.status == "user_error" and "already has a correction" in reply_text(late.replies[0])

    assert len(posts_in(h, "general")) == 1
    assert len(directs(h)) == 1
    after = await cog(h).repo.get(1)
    assert after is not None and before is not None
    assert (after.correction_topic, after.corrected_at) == (TOPIC, before.corrected_at)
    audit = [a for a in await h.core.audit.recent("console", "console") if a.action == "report.correct"]
    assert len(audit) == 1


@pytest.mark.parametrize("close", ["resolve", "dismiss"])
async def test_correct_then_close_sends_the_parent_one_message(h: Harness, close: str) -> None:
    await report(h, "they said wait a year notify=yes")
    await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    await h.say(f"!reports correct 1 {TOPIC} confirm", **MOD)
    closed = await h.say_text(f"!reports {close} 1 done", **MOD)
    assert "already had a private message about the correction, so I sent nothing more" in closed
    [told] = directs(h)
    assert "posted a correction about your report #1" in told
    stored = await cog(h).repo.get(1)
    assert stored is not None and stored.status in ("resolved", "dismissed")


async def test_resolving_without_a_correction_still_tells_the_parent(h: Harness) -> None:
    await report(h, "they said wait a year notify=yes")
    assert "I told the parent" in await h.say_text("!reports resolve 1", **MOD)
    [told] = directs(h)
    assert told.startswith("Hello. The moderators have dealt with your report #1.")


async def test_asking_after_the_correction_is_told_at_once_and_closing_sends_nothing_more(h: Harness) -> None:
    [receipt] = await h.say("!report they said wait a year", user_id="u1")
    await h.say(f"!reports correct 1 {TOPIC}", **MOD)
    await h.say(f"!reports correct 1 {TOPIC} confirm", **MOD)
    assert directs(h) == []  # they had not asked yet
    out = await press(h, button(receipt, "Tell me what happens"), user_id="u1", moderator=False)
    said = reply_text(out.replies[0])
    assert "The moderators have already posted a correction about report #1 in #general" in said
    assert "!myreports" in said
    await h.say("!reports resolve 1", **MOD)
    assert directs(h) == []  # the answer to the press was their one message
