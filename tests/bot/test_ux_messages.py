"""Messages a newcomer meets when they mistype: each says what was typed and what would work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import Harness, reply_text
from tests.support.reports import MOD, cog, make_harness


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    try:
        yield harness
    finally:
        await harness.close()


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[Harness]:
    """Every cog, as `sendbot run` loads them."""
    harness = await Harness.create(tmp_path / "full")
    try:
        yield harness
    finally:
        await harness.close()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!timeline apeal 1/1/2026", "(not apeal). Did you mean appeal?"),
        ("!timeline 5/1/2026", "step should be one of: assessment"),
        ("!report they said so who=scool", "Did you mean school?"),
        ("!forgetme yes", "Only the word confirm works there, not yes."),
    ],
)
async def test_a_wrong_choice_names_what_was_typed_and_the_closest_choice(
    full: Harness, command: str, expected: str
) -> None:
    out = await full.outcome(command)
    assert out.status == "usage"
    text = reply_text(out.replies[0])
    assert expected in text
    assert "kind" not in text


async def test_a_wrong_choice_with_nothing_close_suggests_nothing(h: Harness) -> None:
    # `teacher` is one of the words `who=` takes now (issue 14); a word with nothing close:
    text = await h.say_text("!report they said so who=banana")
    assert "I don't know who banana is. After who= you can write school (or SENCO, head teacher)," in text
    assert "council (or LA, local authority), NHS (or GP, CAMHS), or other." in text
    assert "Did you mean" not in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!reports frobnicate", "There is no !reports frobnicate. Subcommands: correct, dismiss"),
        ("!reports shwo 1", "There is no !reports shwo. Did you mean !reports show?"),
        ("!reports purge user", "Did you mean !reports purge-user?"),
        ("!reports lsit", "Did you mean !reports list?"),
    ],
)
async def test_an_unknown_reports_subcommand_is_named_not_read_as_a_page(
    h: Harness, command: str, expected: str
) -> None:
    out = await h.outcome(command, **MOD)
    assert out.status == "usage"
    text = reply_text(out.replies[0])
    assert expected in text
    assert "whole number" not in text


async def test_the_reports_page_number_and_options_still_work(h: Harness) -> None:
    assert "There is only 1 page" in await h.say_text("!reports 2", **MOD)
    assert "Reports: all" in await h.say_text("!reports status=all", **MOD)


async def test_reports_list_as_the_readme_says_is_the_listing(h: Harness) -> None:
    await h.say("!report the school said we must wait")
    assert "Reports: open (1)" in await h.say_text("!reports list", **MOD)
    assert "Reports: all (1)" in await h.say_text("!reports list status=all", **MOD)
    assert "There is only 1 page" in await h.say_text("!reports list 2", **MOD)


async def test_members_are_refused_before_any_subcommand_hint(h: Harness) -> None:
    out = await h.outcome("!reports frobnicate")
    assert out.status == "denied"


async def test_report_confirmation_and_tag_read_naturally(h: Harness) -> None:
    assert "Your report is #1." in await h.say_text("!report the school said we must wait")
    assert "Tagged report #1 as must-wait." in await h.say_text("!reports tag 1 must-wait", **MOD)


async def test_an_unrouted_report_says_why_it_was_not_announced(h: Harness) -> None:
    await h.say("!report the school said we must wait", scope="elsewhere")
    await cog(h).drain()
    text = await h.say_text("!reports show 1", scope="elsewhere", **MOD)
    assert "no moderators' channel is set" in text
    assert "unrouted" not in text


async def test_a_private_feed_address_is_refused_in_one_plain_sentence(full: Harness) -> None:
    text = await full.say_text("!feeds add http://127.0.0.1/feed", **MOD)
    assert "That address won't do: the address is on a private or local network." in text
    assert "refused:" not in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!help timelin", "There is no command called !timelin. Did you mean !help timeline?"),
        ("!help reports shwo", "Did you mean !help reports show?"),
        ("!help xyzzy", "There is no command called !xyzzy. Type !help for the list."),
    ],
)
async def test_help_for_a_mistyped_command_suggests_the_closest(full: Harness, command: str, expected: str) -> None:
    assert expected in await full.say_text(command, moderator=True)


async def test_help_suggests_no_moderator_command_to_a_member(full: Harness) -> None:
    text = await full.say_text("!help reports shwo")
    assert "!help reports show" not in text


async def test_appeal_with_mediation_but_no_decision_date_says_which_comes_first(full: Harness) -> None:
    out = await full.outcome("!timeline appeal mediation 1/3/2026")
    assert out.status == "usage"
    assert "Give the date of the decision letter first" in reply_text(out.replies[0])


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!reports show", "Missing id: the report's number, from !reports."),
        ("!reports note 1", "Missing text: the note, seen only by moderators."),
        ("!feeds remove", "Missing id: the subscription's id, from !feeds list."),
        ("!feeds add", "Missing url: the feed's address (RSS or Atom)."),
        ("!report", "Usage: !report <text…> [who=…]"),
    ],
)
async def test_a_missing_argument_says_what_it_is(full: Harness, command: str, expected: str) -> None:
    out = await full.outcome(command, moderator=True)
    assert out.status == "usage"
    assert expected in reply_text(out.replies[0])


async def test_a_mediation_certificate_before_the_decision_letter_is_queried(full: Harness) -> None:
    out = await full.outcome("!timeline appeal 1/3/2026 mediation 1/2/2026")
    assert out.status == "usage"
    text = reply_text(out.replies[0])
    assert "The mediation certificate (Sun 1 Feb 2026) is dated before the decision letter (Sun 1 Mar 2026)" in text
    assert not out.replies[0].files
    # The same day is possible, and still answered.
    assert (await full.outcome("!timeline appeal 1/3/2026 mediation 1/3/2026")).status == "ok"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!reports tag must-wait 1", "Put 1 (id) first, before must-wait."),
        ("!reports note called the LA 1", "Put 1 (id) first, before called."),
    ],
)
async def test_the_right_words_in_the_wrong_order_say_which_goes_first(
    full: Harness, command: str, expected: str
) -> None:
    out = await full.outcome(command, moderator=True)
    assert out.status == "usage"
    assert expected in reply_text(out.replies[0])


async def test_every_help_line_fits_a_discord_description(full: Harness) -> None:
    """Discord cuts slash-command and option descriptions at 100 characters: the first help
    line (also the line in !help) and every argument's help must fit whole."""
    for spec in full.core.dispatcher.specs:
        first = " ".join(spec.help.splitlines()[0].split())
        assert len(first) <= 100, (spec.name, len(first), first)
        for arg in spec.args:
            assert len(arg.help) <= 100, (spec.name, arg.name, arg.help)
