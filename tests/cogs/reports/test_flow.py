"""The whole reports flow through the command harness: report, announce, triage, correct,
resolve, export, forget; plus the refusals along the way."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import cli
from bot.adapters.console import ConsoleAdapter
from bot.markup import to_slack_mrkdwn
from bot.messenger import DeliveryError
from bot.model import Actor, Incoming, Place, ReportedMessage
from tests.support.harness import Harness, reply_text
from tests.support.reports import MOD, MOD_CHANNEL, cog, make_harness


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    try:
        yield harness
    finally:
        await harness.close()


def ids(text: str) -> list[int]:
    """Report numbers in the order a listing shows them."""
    return [int(n) for n in re.findall(r"^#(\d+) ·", text, re.M)]


def console_posts(h: Harness, channel: str) -> list:
    return [s for s in h.sent("console") if s.kind == "post" and s.channel and s.channel.channel_id == channel]


async def test_whole_flow_report_to_forget(h: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A parent reports in a public channel, with their phone number in the text.
    out = await h.outcome(
        "!report The SENCo said EHCPs are being abolished next year, call me on 07700 900123 who=school",
        user_id="u1",
        name="Parent Pat",
    )
    assert out.status == "ok"
    assert out.delete_trigger is True  # the public message is removed
    [confirm] = out.replies
    assert confirm.ephemeral
    assert "#1" in confirm.text and "I removed a phone number before saving it" in confirm.text
    assert "Please don't put names in reports" in confirm.text
    assert "abolished" not in confirm.text  # the report is not echoed back

    # The moderators' channel gets the announcement, without the reporter or the number.
    await cog(h).drain()
    [notice] = console_posts(h, MOD_CHANNEL)
    shown = reply_text(notice.reply)
    assert "New report #1" in shown
    assert "EHCPs are being abolished" in shown and "a school" in shown
    assert "07700" not in shown and "[phone number removed]" in shown
    assert "Pat" not in shown and "u1" not in shown
    assert notice.nonce == "report-1"

    # Triage in the moderators' channel: list, show, tag, note.
    listing = await h.say("!reports", **MOD)
    assert not listing[0].ephemeral  # public in the moderators' channel
    assert "#1" in reply_text(listing[0]) and "Reports: open (1)" in reply_text(listing[0])
    assert "must-wait" not in reply_text(listing[0])
    assert "Tagged report #1 as must-wait" in await h.say_text("!reports tag 1 Must-Wait", **MOD)
    assert "already tagged" in await h.say_text("!reports tag 1 must-wait", **MOD)
    assert "Added a note" in await h.say_text("!reports note 1 Second report this week from this school", **MOD)
    detail = await h.say_text("!reports show #1", **MOD)
    assert "must-wait" in detail and "Second report this week" in detail and "Mod Maya" in detail
    assert "u1" not in detail  # reporter not shown unless configured

    # Correct: the moderator sees the exact card privately first; nothing is posted yet.
    [preview] = await h.say("!reports correct 1 assessment-timescales", **MOD)
    assert preview.ephemeral and preview.card is not None and "20 weeks" in preview.card.body
    assert [c.label for c in preview.choices] == ["Confirm", "Cancel"]
    assert console_posts(h, "general") == []
    # Confirmed: a sourced card in the channel where the claim was seen, quoting the topic.
    text = await h.say_text("!reports correct 1 assessment-timescales confirm", **MOD)
    assert "Posted the assessment-timescales correction in #general" in text
    [correction] = console_posts(h, "general")
    posted = reply_text(correction.reply)
    assert "20 weeks" in posted and "legislation.gov.uk/uksi/2014/1530/regulation/13" in posted
    assert "abolished" not in posted and "Pat" not in posted  # the topic, not the reporter
    assert correction.nonce == "report-1-correction"

    # Resolve; the parent sees the outcome in !myreports.
    assert "Report #1 is resolved" in await h.say_text("!reports resolve 1 corrected in channel", **MOD)
    mine = await h.say("!myreports", user_id="u1")
    assert mine[0].ephemeral and "resolved, correction posted" in reply_text(mine[0])
    assert "Reports: open (0)" in await h.say_text("!reports", **MOD)
    assert "#1" in await h.say_text("!reports status=resolved", **MOD)

    # Every moderator action is in the audit log, with who and what.
    audit = await h.core.audit.recent("console", "console", limit=50)
    actions = [(a.action, a.target, a.actor_name) for a in reversed(audit)]
    for action in ("report.tag", "report.note", "report.view", "report.correct", "report.resolve"):
        assert (action, "report #1", "Mod Maya") in actions
    assert ("report.list", "", "Mod Maya") in actions
    assert [a.detail for a in audit if a.action == "report.tag"] == ["must-wait"]
    assert all("SENCo" not in a.detail for a in audit)  # report text never copied into the audit log

    # Export for escalation: no personal data by default.
    config_path = tmp_path / "config.toml"
    config_path.write_text(h.storage_toml(), encoding="utf-8")
    capsys.readouterr()
    # The CLI runs its own event loop, as it does from a shell: give it a thread.
    args = ["reports", "export", "--since", "2026-11-01", "--format", "json", "--config", str(config_path)]
    assert await asyncio.to_thread(cli.main, args) == 0
    exported = json.loads(capsys.readouterr().out)
    [row] = exported["reports"]
    assert row["status"] == "resolved" and row["tags"] == ["must-wait"] and row["source"] == "school"
    assert "reporter_id" not in row and "notes" not in row and "07700" not in row["text"]
    assert await asyncio.to_thread(cli.main, [*args, "--include-personal"]) == 0
    personal = json.loads(capsys.readouterr().out)["reports"][0]
    assert personal["reporter_id"] == "u1" and personal["notes"][0]["moderator"] == "Mod Maya"

    # Forget me: asks first, then deletes and says what.
    ask = await h.say_text("!forgetme", user_id="u1")
    assert "1 report stored" in ask and "!forgetme confirm" in ask
    # Asking deletes nothing yet: the report still has its text.
    kept = await cog(h).repo.get(1)
    assert kept is not None and kept.text is not None and kept.erased is None
    done = await h.say_text("!forgetme confirm", user_id="u1")
    assert "deleted the text, your user id and 1 moderator note from 1 report" in done
    # The announcement that quoted the text is removed from the moderators' channel too.
    [removed] = [s for s in h.sent("console") if s.kind == "delete"]
    assert removed.channel is not None and removed.channel.channel_id == MOD_CHANNEL
    assert removed.message_id == notice.message_id
    assert "no stored reports" in await h.say_text("!myreports", user_id="u1")
    after = await h.say_text("!reports show 1", **MOD)
    assert "deleted at the reporter's request" in after and "SENCo" not in after
    assert "must-wait" in after  # anonymous counts stay
    assert "nothing to delete" in await h.say_text("!forgetme", user_id="u1")


async def test_report_by_direct_message_is_not_deleted_and_correction_comes_back(h: Harness) -> None:
    out = await h.outcome("!report the LA told me there's a 6000 rule", direct=True, channel="dm-u1")
    assert out.status == "ok" and out.delete_trigger is False
    replies = await h.say("!reports correct 1 assessment-timescales", **MOD)
    assert replies[0].ephemeral and "came by direct message" in replies[0].text
    assert replies[0].card is not None and "20 weeks" in replies[0].card.body
    assert console_posts(h, "dm-u1") == []
    # Forgetting a report sent by DM also drops the DM channel's id (it identifies the person).
    await h.say("!forgetme confirm", direct=True, channel="dm-u1")
    report = await cog(h).repo.get(1)
    assert report is not None and report.channel_id == "" and report.text is None


@pytest.mark.parametrize(
    ("text", "status", "expect"),
    [
        ("!report", "usage", "Missing text: what you were told, in your own words"),
        ("!report    ", "usage", "Missing text: what you were told, in your own words"),
        ("!report " + "x" * 2001, "user_error", "2001 characters; the most I can take is 2000"),
        # `teacher` is a word for school now (test_who_accepts_the_words_parents_use); an unknown word:
        ("!report they said so who=the-moon", "usage", "I don't know who the-moon is. After who= you can write"),
    ],
)
async def test_bad_reports_are_refused_and_still_removed(h: Harness, text: str, status: str, expect: str) -> None:
    out = await h.outcome(text)
    assert out.status == status
    assert expect in reply_text(out.replies[0])
    assert out.replies[0].ephemeral
    assert out.delete_trigger is True  # refused or not, the text is not left on show
    assert await cog(h).repo.for_reporter("console", "u1") == []
    # Nothing typed is lost: the words come back privately before the message is removed.
    assert out.give_back is not None and out.give_back.ephemeral
    assert text.strip() in reply_text(out.give_back)


@pytest.mark.parametrize(
    ("who", "source"),
    [
        ("school", "school"),
        ("SENCO", "school"),
        ("SENCo", "school"),
        ("head-teacher", "school"),
        ("Head_Teacher", "school"),
        ("headteacher", "school"),
        ('"head teacher"', "school"),
        ("head teacher", "school"),  # two words without quotes: both are read as the name
        ("teacher", "school"),
        ("council", "LA"),
        ("LA", "LA"),
        ("l.a.", "LA"),
        ("local authority", "LA"),
        ("local-authority", "LA"),
        ("Local Authority", "LA"),
        ("NHS", "health"),
        ("gp", "health"),
        ("CAMHS", "health"),
        ("health", "health"),
        ("speech and language therapist", "health"),
        ("other", "other"),
    ],
)
async def test_who_accepts_the_words_parents_use(h: Harness, who: str, source: str) -> None:
    out = await h.outcome(f"!report the school said we must wait a year who={who}")
    assert out.status == "ok", reply_text(out.replies[0])
    assert out.give_back is None  # accepted: nothing is echoed back
    [report] = await cog(h).repo.for_reporter("console", "u1")
    assert report.source == source
    assert report.text == "the school said we must wait a year"  # the words of `who` are not in the claim


async def test_who_in_the_middle_and_two_words_leaves_the_claim_whole(h: Harness) -> None:
    assert (await h.outcome("!report who=local authority said no to my EHCP request")).status == "ok"
    [report] = await cog(h).repo.for_reporter("console", "u1")
    assert (report.source, report.text) == ("LA", "said no to my EHCP request")


async def test_an_unknown_who_lists_what_is_accepted_and_gives_the_words_back(h: Harness) -> None:
    out = await h.outcome("!report the school said we must wait who=neighbour")
    text = reply_text(out.replies[0])
    assert out.status == "usage"
    assert "I don't know who neighbour is." in text
    for word in ("school", "SENCO", "council", "LA", "NHS", "GP", "other"):
        assert word in text
    assert "who=head-teacher" in text  # how to write two words
    assert out.give_back is not None
    assert "!report the school said we must wait who=neighbour" in reply_text(out.give_back)


async def test_refused_reports_give_the_words_back_for_every_reason(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, reports={"per_user_per_day": 1, "max_length": 50})
    try:
        assert (await h.outcome("!report first claim")).status == "ok"
        limited = await h.outcome("!report second claim about my son")
        assert limited.status == "user_error" and "already sent 1 report" in reply_text(limited.replies[0])
        assert limited.give_back is not None and "second claim about my son" in reply_text(limited.give_back)
        long = "!report " + "the council said no " * 5
        too_long = await h.outcome(long, user_id="u2")
        assert too_long.status == "user_error" and "the most I can take is 50" in reply_text(too_long.replies[0])
        assert too_long.give_back is not None and long.strip() in reply_text(too_long.give_back)
        # In a direct message nothing is removed, so nothing needs giving back.
        dm = await h.outcome("!report third claim who=banana", direct=True, channel="dm-u1")
        assert dm.status == "usage" and dm.give_back is None and dm.delete_trigger is False
        # A slash command leaves no message to remove.
        slash = await h.outcome("!report third claim who=banana", surface="slash", user_id="u3")
        assert slash.status == "usage" and slash.give_back is None
    finally:
        await h.close()


async def test_given_back_words_are_escaped_and_cannot_ping(h: Harness) -> None:
    typed = "!report @everyone <@123> **big** [x](https://evil.example) who=the-moon"
    out = await h.outcome(typed)
    assert out.give_back is not None
    assert reply_text(out.give_back).endswith(typed)  # shown exactly as typed
    slack = to_slack_mrkdwn(out.give_back.text)
    assert "<@123>" not in slack and "&lt;@123&gt;" in slack  # shown, never a mention
    assert "<https://evil.example" not in slack  # shown, never a link


async def test_console_shows_the_words_back_then_removes_the_message(tmp_path: Path) -> None:
    h = await make_harness(tmp_path)
    try:
        out = io.StringIO()
        console = ConsoleAdapter(h.core, as_member=True, out=out)
        await console.ask("!report my son Sam was refused who=the-moon")
        shown = out.getvalue()
        back = shown.index("Here is what you wrote")
        removed = shown.index("[#general] (a message was removed)")
        reason = shown.index("I don't know who the-moon is")
        assert back < removed < reason
        assert shown[:removed].count("(only you can see this)") == 1
        assert "!report my son Sam was refused who=the-moon" in shown[back:removed]
    finally:
        await h.close()


async def test_rate_limit_counts_stored_reports_and_survives_restart(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, reports={"per_user_per_day": 2})
    try:
        assert (await h.outcome("!report first claim")).status == "ok"
        h.clock.advance(hours=1)
        assert (await h.outcome("!report second claim")).status == "ok"
        third = await h.outcome("!report third claim")
        assert third.status == "user_error" and "already sent 2 reports in the last 24 hours" in third.replies[0].text
        assert (await h.outcome("!report someone else", user_id="u2")).status == "ok"  # per user
    finally:
        await h.close()
    # A restart (new core, same database) keeps the count.
    h2 = await make_harness(tmp_path, reports={"per_user_per_day": 2}, now=h.clock.value)
    try:
        assert (await h2.outcome("!report third claim")).status == "user_error"
        h2.clock.advance(hours=23, minutes=1)  # the first report is now over 24 hours old
        assert (await h2.outcome("!report third claim")).status == "ok"
    finally:
        await h2.close()


async def test_concurrent_reports_cannot_slip_past_the_limit(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, reports={"per_user_per_day": 2})
    try:
        outs = await asyncio.gather(*(h.outcome(f"!report claim number {i}") for i in range(6)))
        assert sorted(o.status for o in outs) == ["ok", "ok"] + ["user_error"] * 4
    finally:
        await h.close()


async def test_same_report_twice_gets_a_clear_message(h: Harness) -> None:
    assert (await h.outcome("!report School says we must wait a year")).status == "ok"
    again = await h.outcome("!report School says we must wait a year")
    assert again.status == "user_error" and "already reported that today (#1)" in again.replies[0].text


MODERATOR_COMMANDS = [
    "!reports",
    "!reports show 1",
    "!reports tag 1 x",
    "!reports untag 1 x",
    "!reports note 1 hi",
    "!reports resolve 1",
    "!reports dismiss 1",
    "!reports correct 1 assessment-timescales",
    "!reports summary",
    "!reports purge-user u1",
]


@pytest.mark.parametrize("text", MODERATOR_COMMANDS)
async def test_members_cannot_run_moderator_commands(h: Harness, text: str) -> None:
    await h.say("!report the school said something wrong")
    out = await h.outcome(text, user_id="u2")
    assert out.status == "denied"
    assert out.replies[0].ephemeral and "is for the forum's moderators" in out.replies[0].text
    assert console_posts(h, "general") == []


@pytest.mark.parametrize(
    ("text", "status", "expect"),
    [
        ("!reports show 99", "user_error", "There is no report #99"),
        ("!reports show abc", "usage", "id should be a whole number"),
        ("!reports show", "usage", "Missing id"),
        ("!reports tag 1 Bad_Tag!", "usage", "Tags are lower-case letters"),
        ("!reports untag 1 never-added", "user_error", "has no tag never-added"),
        ("!reports note 1", "usage", "Missing text"),
        ("!reports 0", "usage", "starts at 1"),
        ("!reports 7", "user_error", "only 1 page"),
        ("!reports status=closed", "usage", "status should be one of"),
        ("!reports summary 0", "usage", "between 1 and 3650"),
        ("!reports correct 1", "usage", "Missing topic"),
        ("!reports correct 1 zebra", "user_error", "is not a topic id, and no topic is close to it"),
        ("!reports purge-user <#channel>", "usage", "user id or mention"),
        ("!reports resolve 1 " + "y" * 1001, "user_error", "up to 1000 characters"),
    ],
)
async def test_bad_ids_and_arguments(h: Harness, text: str, status: str, expect: str) -> None:
    await h.say("!report the school said something wrong")
    out = await h.outcome(text, **MOD)
    assert out.status == status, reply_text(out.replies[0])
    assert expect in reply_text(out.replies[0])
    assert console_posts(h, "general") == []


async def test_closing_twice_and_reports_of_other_forums(h: Harness) -> None:
    await h.say("!report the LA said the 20 weeks rule is gone", platform="discord", scope="G1", channel="C1")
    await h.say("!report another forum's report", platform="discord", scope="G2", channel="C9", user_id="u9")
    mod_g1 = {"moderator": True, "platform": "discord", "scope": "G1", "channel": "C-mods", "user_id": "m1"}
    assert "Report #1 is dismissed" in await h.say_text("!reports dismiss 1 not a claim", **mod_g1)
    assert "already dismissed" in await h.say_text("!reports resolve 1", **mod_g1)
    # Report #2 belongs to another Discord server: invisible from G1.
    assert "There is no report #2" in await h.say_text("!reports show 2", **mod_g1)
    assert "Reports: all (1)" in await h.say_text("!reports status=all", **mod_g1)


async def test_moderator_answers_are_private_outside_the_moderators_channel(h: Harness) -> None:
    await h.say("!report the school said something wrong")
    in_public = await h.say("!reports show 1", moderator=True, channel="general")
    assert in_public[0].ephemeral
    in_mods = await h.say("!reports show 1", **MOD)
    assert not in_mods[0].ephemeral


async def test_hostile_report_text_cannot_ping_or_link(h: Harness) -> None:
    hostile = "@everyone <!channel> <@U123> [click here](https://evil.example/x) **LOUD** `code` # heading"
    await h.say(f"!report {hostile}")
    await cog(h).drain()
    [notice] = console_posts(h, MOD_CHANNEL)
    body = notice.reply.card.body
    assert notice.reply.ping_role is None
    slack = to_slack_mrkdwn(body)
    assert "<!channel>" not in slack and "<@U123>" not in slack and "<https://evil" not in slack
    assert "&lt;!channel" in slack and "&lt;@U123" in slack
    assert "\\[click here\\]\\(https://evil.example/x\\)" in body and "\\*\\*LOUD\\*\\*" in body
    [shown] = await h.say("!reports show 1", **MOD)
    assert shown.card is not None and "<https://evil" not in to_slack_mrkdwn(shown.card.body)


async def test_announcement_failure_keeps_the_report_and_is_retried(h: Harness) -> None:
    h.messengers["console"].fail_next.append(DeliveryError("gateway down"))
    out = await h.outcome("!report the school said we must wait")
    assert out.status == "ok"  # the reporter is not told about our problem
    await cog(h).drain()
    report = await cog(h).repo.get(1)
    assert report is not None and report.announce_status == "failed" and report.announce_attempts == 1
    assert console_posts(h, MOD_CHANNEL) == []
    assert "Announcement" in await h.say_text("!reports show 1", **MOD)
    h.clock.advance(minutes=3)
    assert await cog(h).retry_announcements() == 1
    report = await cog(h).repo.get(1)
    assert report is not None and report.announce_status == "sent"
    assert len(console_posts(h, MOD_CHANNEL)) == 1
    assert await cog(h).retry_announcements() == 0


async def test_missing_messenger_and_unrouted_scope_do_not_lose_reports(h: Harness) -> None:
    del h.core.messengers["console"]
    assert (await h.outcome("!report no adapter running")).status == "ok"
    await h.outcome("!report a slack workspace with no moderators' channel", platform="slack", scope="T1", user_id="s1")
    await cog(h).drain()
    first, second = await cog(h).repo.get(1), await cog(h).repo.get(2)
    assert first is not None and first.announce_status == "failed" and first.text == "no adapter running"
    assert second is not None and second.announce_status == "unrouted"


async def test_report_message_action(h: Harness) -> None:
    def incoming(user: str) -> Incoming:
        return Incoming(
            text="",
            author=Actor("discord", user, f"Reporter {user}"),
            place=Place("discord", "G1", "C1", "chat"),
            surface="action",
        )

    message = ReportedMessage(
        text="PSA: EHCPs end in 2027, email me at jo.bloggs@example.com",
        author=Actor("discord", "A1", "Jo Bloggs"),
        place=Place("discord", "G1", "C1", "chat"),
        message_id="M1",
        link="https://discord.com/channels/G1/C1/M1",
    )
    out = await h.core.dispatcher.perform("report_message", incoming("R1"), message=message)
    assert out.status == "ok" and out.replies[0].ephemeral and "#1" in out.replies[0].text
    assert "I removed an email address" in out.replies[0].text  # in plain words since issue 14
    await cog(h).drain()
    [notice] = [s for s in h.sent("discord") if s.kind == "post"]
    assert notice.channel is not None and notice.channel.channel_id == "C-mods" and notice.reply is not None
    shown = reply_text(notice.reply)
    assert "Reported message" in shown and "Jo Bloggs" in shown and "https://discord.com/channels/G1/C1/M1" in shown
    assert "[email removed]" in shown and "example.com" not in shown
    again = await h.core.dispatcher.perform("report_message", incoming("R1"), message=message)
    assert again.status == "user_error" and "already reported that message (#1)" in again.replies[0].text
    other = await h.core.dispatcher.perform("report_message", incoming("R2"), message=message)
    assert other.status == "ok"
    await cog(h).drain()
    latest = [s.reply for s in h.sent("discord") if s.kind == "post" and s.reply][-1]
    assert "Also reported as\n#1" in reply_text(latest)
    # The correction goes to the channel where the message was.
    mod = {"moderator": True, "platform": "discord", "scope": "G1", "channel": "C-mods"}
    assert "would post in #chat" in await h.say_text("!reports correct 1 assessment-timescales", **mod)
    assert "correction in #chat" in await h.say_text("!reports correct 1 assessment-timescales confirm", **mod)
    assert [s.channel.channel_id for s in h.sent("discord") if s.kind == "post" and s.channel][-1] == "C1"


async def test_correction_without_rights_cog_or_with_failing_post(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, rights=None)
    try:
        await h.say("!report the school said something wrong")
        text = await h.say_text("!reports correct 1 assessment-timescales", **MOD)
        assert "!rights topics aren't loaded on this bot" in text
    finally:
        await h.close()
    h = await make_harness(tmp_path / "b")
    try:
        await h.say("!report the school said something wrong")
        await cog(h).drain()
        await h.say("!reports correct 1 assessment-timescales", **MOD)  # the preview
        h.messengers["console"].fail_next.append(DeliveryError("Missing Access", permanent=True))
        out = await h.outcome("!reports correct 1 assessment-timescales confirm", **MOD)
        assert out.status == "user_error" and "couldn't post in #general: Missing Access" in out.replies[0].text
        report = await cog(h).repo.get(1)
        assert report is not None and report.corrected_at is None
    finally:
        await h.close()


async def test_summary_counts_and_similar_claims(h: Harness) -> None:
    claims = [
        ("the school said EHCPs are being abolished next year", "school"),
        ("School told me EHCPs are being abolished next year!", "school"),
        ("our school says EHCPs being abolished next year", "school"),
        ("LA says you must wait 6 months before applying", "LA"),
        ("something unrelated about transport", "other"),
    ]
    for i, (text, who) in enumerate(claims):
        await h.say(f"!report {text} who={who}", user_id=f"p{i}")
    await h.say("!reports tag 4 must-wait", **MOD)
    await h.say("!reports tag 5 transport", **MOD)
    await h.say("!reports dismiss 5", **MOD)
    text = await h.say_text("!reports summary 7", **MOD)
    assert "Reports in the last 7 days: 5" in text
    assert "open: 4" in text and "dismissed: 1" in text
    assert "school: 3" in text and "LA: 1" in text
    assert "must-wait: 1" in text and "transport: 1" in text
    assert "3× " in text and "(#1, #2, #3)" in text
    h.clock.advance(days=10)
    assert "No reports." in await h.say_text("!reports summary 7", **MOD)


async def test_purge_user_removes_their_reports_and_their_reported_messages(h: Harness) -> None:
    await h.say("!report the school said X", user_id="U2", name="Sam")
    await h.say("!report the school said Y", user_id="U3", name="Kim")
    message = ReportedMessage(
        text="U2 wrote this claim",
        author=Actor("console", "U2", "Sam"),
        place=Place("console", "console", "general", "general"),
        message_id="m-9",
    )
    await h.core.dispatcher.perform("report_message", h.incoming("", user_id="U3"), message=message)
    text = await h.say_text("!reports purge-user <@U2>", **MOD)
    assert "from 1 report they made and 1 report of their messages" in text
    repo = cog(h).repo
    one, two, three = await repo.get(1), await repo.get(2), await repo.get(3)
    assert one is not None and one.text is None and one.reporter_id is None and one.erased == "purged"
    assert two is not None and two.text == "the school said Y"  # someone else's report is untouched
    assert three is not None and three.text is None and three.message_author_id is None
    [entry] = [a for a in await h.core.audit.recent("console", "console") if a.action == "report.purge-user"]
    assert "U2" not in entry.target + entry.detail
    assert "Nothing was deleted" in await h.say_text("!reports purge-user U2", **MOD)


async def test_help_lists_report_commands(h: Harness) -> None:
    member = await h.say_text("!help")
    assert "!report" in member and "!myreports" in member and "!forgetme" in member
    assert "For moderators" not in member
    mod = await h.say_text("!help reports", **MOD)
    for sub in ("show", "tag", "note", "resolve", "dismiss", "correct", "summary", "purge-user"):
        assert f"!reports {sub}" in mod


async def test_reporter_shown_only_when_configured_and_links_are_checked(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, reports={"show_reporter_to_moderators": True})
    try:
        await h.say("!report the school said X", user_id="u7", name="Pat **Bold**")
        message = ReportedMessage(
            text="claim",
            author=Actor("console", "A1", "Author"),
            place=Place("console", "console", "general", "general"),
            message_id="m-1",
            link="javascript:alert(1)",
        )
        await h.core.dispatcher.perform("report_message", h.incoming("", user_id="u8"), message=message)
        bad = ReportedMessage(
            text="claim two",
            author=Actor("console", "A1", "Author"),
            place=Place("console", "console", "general", "general"),
            message_id="m-2",
            link="https://ok.example/x)[evil](https://evil.example",
        )
        await h.core.dispatcher.perform("report_message", h.incoming("", user_id="u8"), message=bad)
        await cog(h).drain()
        # The three notices are posted by concurrent tasks: find report #1's by its title.
        [card] = [
            p.reply.card
            for p in console_posts(h, MOD_CHANNEL)
            if p.reply and p.reply.card and "#1" in p.reply.card.title
        ]
        [reporter] = [f.value for f in card.fields if f.name == "Reporter"]
        assert reporter == r"Pat \*\*Bold\*\* \(u7\)"  # escaped, so shown literally
        assert "u7" in await h.say_text("!reports show 1", **MOD)
        for report_id in (2, 3):
            report = await cog(h).repo.get(report_id)
            assert report is not None and report.message_link is None
    finally:
        await h.close()


async def test_forgetting_still_works_when_the_notice_cannot_be_removed(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await h.say("!report the school said X")
    await cog(h).drain()

    async def refuse(channel: object, message_id: str) -> None:
        raise DeliveryError("Unknown Message", permanent=True)

    h.messengers["console"].delete = refuse  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="cogs.reports"):
        done = await h.say_text("!forgetme confirm")
    assert "Done." in done
    assert "report #1: could not remove its announcement (DeliveryError)" in caplog.text
    report = await cog(h).repo.get(1)
    assert report is not None and report.text is None


async def test_list_pages_and_my_reports_cap(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, reports={"per_user_per_day": 100})
    try:
        for i in range(23):
            await h.say(f"!report claim number {i}")
        for i in range(1, 13):
            await h.say(f"!reports tag {i} same", **MOD)
        first = await h.say_text("!reports tag=same", **MOD)
        assert "Page 1 of 2. Next: !reports 2 tag=same" in first
        assert ids(first) == list(range(12, 2, -1))
        assert ids(await h.say_text("!reports 2 tag=same", **MOD)) == [2, 1]
        mine = await h.say_text("!myreports")
        assert "Your 20 most recent reports" in mine and ids(mine) == list(range(23, 3, -1))
    finally:
        await h.close()


async def test_correction_refuses_a_topic_without_sources(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, rights="stand-in")
    try:
        await h.say("!report the school said something wrong")
        out = await h.outcome("!reports correct 1 unsourced", **MOD)
        assert out.status == "user_error" and "has no sources" in reply_text(out.replies[0])
        assert console_posts(h, "general") == []
    finally:
        await h.close()


async def test_lone_surrogates_from_platform_json_are_cleaned_where_input_enters(h: Harness) -> None:
    # JSON "\ud800" from Discord or Slack decodes to a lone surrogate, which SQLite can't store.
    out = await h.outcome("!report the school said \ud800 no", user_id="s1", name="Sam \udfff")
    assert out.status == "ok", out.replies
    spec = h.core.dispatcher.get("report")
    assert spec is not None
    slash = h.incoming("/report", user_id="s2", surface="slash")
    typed = await h.core.dispatcher.invoke(spec, slash, {"text": "x \udc80"})
    assert typed.status == "ok", typed.replies
    message = ReportedMessage(
        text="EHCPs end \ud83d soon",
        author=Actor("console", "A\ud800", "Jo \udfff"),
        place=Place("console", "console", "general", "general"),
        message_id="M\ud800",
    )
    acted = await h.core.dispatcher.perform("report_message", h.incoming("", user_id="s3"), message=message)
    assert acted.status == "ok", acted.replies
    await cog(h).drain()
    rows = await h.core.db.fetchall("SELECT text, message_author_name FROM reports ORDER BY id")
    assert [r["text"] for r in rows] == ["the school said ? no", "x ?", "EHCPs end ? soon"]
    assert rows[2]["message_author_name"] == "Jo ?"


async def test_a_report_forgotten_while_its_notice_is_posted_loses_the_notice(h: Harness) -> None:
    messenger = h.messengers["console"]
    original = messenger.post
    forgot: list[str] = []

    async def post_then_forget(channel, reply, *, nonce=None, unsure=False):
        message_id = await original(channel, reply, nonce=nonce, unsure=unsure)
        if not forgot:  # the member runs !forgetme while the notice is on its way
            forgot.append(await h.say_text("!forgetme confirm", user_id="u1", direct=True, channel="dm-u1"))
        return message_id

    messenger.post = post_then_forget  # type: ignore[method-assign]
    await h.say("!report the school said x", user_id="u1")
    await cog(h).drain()
    [notice] = [s for s in messenger.sent if s.kind == "post"]
    assert forgot and [s.message_id for s in messenger.sent if s.kind == "delete"] == [notice.message_id]
    report = await cog(h).repo.get(1)
    assert report is not None and report.erased == "forgotten" and report.announce_message_id is None
    assert report.announce_status == "sent"  # not retried either


async def test_confirmation_says_what_kinds_of_things_were_removed_and_asks_for_no_names(h: Harness) -> None:
    out = await h.outcome(
        "!report the head told us my son Sam (DOB 03/04/2015, NHS number 943 476 5919) can't have "
        "an EHCP until Year 4; meeting on 03/04/2026 at 12 Acacia Ave, LS6  2AB, call 07700 900123 who=head teacher"
    )
    assert out.status == "ok"
    [confirm] = out.replies
    text = reply_text(confirm)
    assert (
        "I removed a phone number, a postcode, an NHS number, a date of birth, an address and a name before saving it"
        in text
    )
    assert "Please don't put names in reports" in text
    [report] = await cog(h).repo.for_reporter("console", "u1")
    assert report.source == "school" and report.redactions == 6
    assert report.text is not None
    for gone in ("Sam", "03/04/2015", "943", "Acacia", "2AB", "07700"):
        assert gone not in report.text
    for kept in ("meeting on 03/04/2026", "Year 4", "can't have an EHCP", "my son [name removed]"):
        assert kept in report.text


async def test_nothing_removed_still_asks_for_no_names(h: Harness) -> None:
    [confirm] = await h.say("!report the LA said we must wait 6 months who=council")
    assert "I removed" not in confirm.text and "Please don't put names in reports" in confirm.text


async def test_help_report_asks_for_no_names_and_lists_who(h: Harness) -> None:
    text = await h.say_text("!help report")
    assert "Please don't put names in it" in text
    assert "dates of birth" in text and "NHS" in text
    assert "council" in text and "head teacher" in text


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("!reports tag 1 ehcp abolished", "Tags are single words. Join the words with a hyphen: try ehcp-abolished."),
        ("!reports tag 1 EHCP Abolished!", "try ehcp-abolished"),
        ("!reports untag 1 must wait", "try must-wait"),
    ],
)
async def test_a_tag_of_several_words_says_to_join_them_with_a_hyphen(h: Harness, text: str, expect: str) -> None:
    await h.say("!report the school said EHCPs are abolished")
    out = await h.outcome(text, **MOD)
    shown = reply_text(out.replies[0])
    assert out.status == "usage" and expect in shown
    assert "didn't expect" not in shown
    assert "Usage: !reports" in shown and "<tag…>" not in shown  # a tag is one word, not free text
    assert "Tagged report #1 as ehcp-abolished" in await h.say_text("!reports tag 1 ehcp-abolished", **MOD)


async def test_a_report_with_no_moderators_channel_says_so_in_plain_words(h: Harness) -> None:
    await h.say("!report the school said we must wait", scope="elsewhere")
    await cog(h).drain()
    text = await h.say_text("!reports show 1", scope="elsewhere", **MOD)
    assert "no moderators' channel is set for this forum yet" in text
    assert "Ask whoever runs the bot" in text
    assert "[[" not in text and "moderator_channels" not in text  # no config keys for volunteers


async def _reported_message(h: Harness, author_id: str, author_name: str, reporter: str, n: int) -> None:
    message = ReportedMessage(
        text=f"claim {n} by {author_name}",
        author=Actor("console", author_id, author_name),
        place=Place("console", "console", "general", "general"),
        message_id=f"m-{n}",
    )
    out = await h.core.dispatcher.perform("report_message", h.incoming("", user_id=reporter), message=message)
    assert out.status == "ok"


@pytest.mark.parametrize("typed", ["<@U2>", "<@!U2>", "<@U2|sam>", "@U2", "U2"])
async def test_purge_user_takes_a_mention_or_an_id_and_says_how_many_it_erased(h: Harness, typed: str) -> None:
    await h.say("!report the school said X", user_id="U2")
    await h.say("!report the school said Y", user_id="U2")
    await _reported_message(h, "U2", "Sam Smith", "U3", 1)
    text = await h.say_text(f"!reports purge-user {typed}", **MOD)
    assert "Erased 3 reports." in text
    assert "from 2 reports they made and 1 report of their messages" in text


async def test_purge_user_takes_the_name_on_a_reported_message(h: Harness) -> None:
    await _reported_message(h, "D123", "Jo Bloggs", "U3", 1)
    await _reported_message(h, "D123", "Jo Bloggs", "U4", 2)
    await h.say("!report the school said Z", user_id="D123")
    text = await h.say_text("!reports purge-user jo bloggs", **MOD)
    assert "Erased 3 reports." in text and "from 1 report they made and 2 reports of their messages" in text
    repo = cog(h).repo
    for n in (1, 2, 3):
        report = await repo.get(n)
        assert report is not None and report.text is None


async def test_purge_user_with_a_name_two_people_share_lists_the_choices(h: Harness) -> None:
    await _reported_message(h, "D1", "Sam", "U3", 1)
    await _reported_message(h, "D2", "sam", "U3", 2)
    await _reported_message(h, "D2", "sam", "U4", 3)
    out = await h.outcome("!reports purge-user @Sam", **MOD)
    text = reply_text(out.replies[0])
    assert out.status == "user_error"
    assert "More than one person is called Sam" in text
    assert "!reports purge-user D2 (2 reports)" in text and "!reports purge-user D1 (1 report)" in text
    # Nothing was erased while the choice is open.
    for n in (1, 2, 3):
        report = await cog(h).repo.get(n)
        assert report is not None and report.text is not None
    assert "Erased 2 reports." in await h.say_text("!reports purge-user D2", **MOD)


async def test_purge_user_with_an_unknown_name_explains_what_names_are_kept(h: Harness) -> None:
    await h.say("!report the school said X", user_id="U2", name="Kim Lee")
    out = await h.outcome("!reports purge-user Kim Lee", **MOD)
    text = reply_text(out.replies[0])
    assert out.status == "user_error"
    assert "no reports from or about anyone called Kim Lee" in text and "mention them or give their user id" in text
    report = await cog(h).repo.get(1)
    assert report is not None and report.text is not None


@pytest.mark.parametrize("typed", ["@everyone", "<!everyone>", "`rm`", "x" * 200, "<@U2> and more"])
async def test_purge_user_hostile_input_never_crashes_or_pings(h: Harness, typed: str) -> None:
    await h.say("!report the school said X", user_id="U2")
    out = await h.outcome(f"!reports purge-user {typed}", **MOD)
    assert out.status in ("usage", "user_error", "ok")
    text = out.replies[0].text
    assert "<!everyone>" not in to_slack_mrkdwn(text)
    report = await cog(h).repo.get(1)
    assert report is not None and report.text is not None


async def test_who_from_a_slash_command_takes_the_words_whole(h: Harness) -> None:
    """Discord's /report gives `who` as one option ("head teacher"); Slack's /report is text."""
    spec = h.core.dispatcher.get("report")
    assert spec is not None
    incoming = h.incoming("/report text:they said wait who:head teacher", surface="slash", user_id="d1")
    out = await h.core.dispatcher.invoke(spec, incoming, {"text": "they said wait", "who": "head teacher"})
    assert out.status == "ok" and out.give_back is None
    slack = await h.outcome("!report the LA said no who=local authority", surface="slash", user_id="s1")
    assert slack.status == "ok"
    [d1] = await cog(h).repo.for_reporter("console", "d1")
    [s1] = await cog(h).repo.for_reporter("console", "s1")
    assert (d1.source, d1.text) == ("school", "they said wait")
    assert (s1.source, s1.text) == ("LA", "the LA said no")
    suggestions = await cog(h).complete_who("")
    assert ("council", "council") in suggestions and ("NHS", "NHS") in suggestions
    assert await cog(h).complete_who("cam") == [("CAMHS", "CAMHS")]
