"""!timeline through the real dispatcher, with the harness's fixed clock (Fri 27 Nov 2026).
Expected dates are worked out by hand in each test."""

import dataclasses
from datetime import date

import pytest
from icalendar import Calendar

from bot.model import Reply
from cogs.timeline import TimelineCog
from tests.support.harness import Harness, reply_text


def one(replies: list[Reply]) -> Reply:
    assert len(replies) == 1
    return replies[0]


def ics_dates(reply: Reply) -> list[date]:
    assert len(reply.files) == 1
    f = reply.files[0]
    assert f.mime_type == "text/calendar" and f.filename.endswith(".ics")
    cal = Calendar.from_ical(f.content)
    events = [c for c in cal.walk("VEVENT")]
    assert all("legislation.gov.uk" in str(e.get("url")) for e in events)
    assert all(str(e.get("summary")).startswith("SEND deadline: ") for e in events)
    assert not any(str(e.get("summary")).endswith(" by") for e in events)
    assert all(e.walk("VALARM") for e in events)
    return sorted(e.decoded("dtstart") for e in events)


def ics_summaries(reply: Reply) -> list[str]:
    cal = Calendar.from_ical(reply.files[0].content)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    return [str(e.get("summary")) for e in events]


async def test_timeline_alone_shows_the_assessment_steps(harness: Harness) -> None:
    reply = one(await harness.say("!timeline"))
    text = reply_text(reply)
    for week in ("Week 0", "Week 6", "Week 16", "Week 20"):
        assert week in text
    assert "15 days" in text
    assert "!timeline appeal" in text
    assert not reply.files


async def test_assessment_dates(harness: Harness) -> None:
    reply = one(await harness.say("!timeline assessment 5/1/2026"))
    text = reply_text(reply)
    # 5 Jan 2026 + 6 weeks = 16 Feb; + 16 weeks = 27 Apr; + 20 weeks = 25 May.
    assert "Mon 16 Feb 2026" in text and "6 weeks after Mon 5 Jan 2026" in text and "reg 5(1)" in text
    assert "Mon 27 Apr 2026" in text and "reg 10(1)" in text
    assert "Mon 25 May 2026" in text and "reg 13(2)" in text
    assert "15 days" in text  # the draft-plan window is explained
    assert "regs 5(4), 10(4) and 13(3)" in text  # the exceptions are named
    assert "absence" not in text.lower()  # the unverified exception is never stated
    assert ics_dates(reply) == [date(2026, 2, 16), date(2026, 4, 27), date(2026, 5, 25)]


async def test_zero_padded_date_is_january_not_may(harness: Harness) -> None:
    text = await harness.say_text("!timeline assessment 05/01/2026")
    assert "Date given: Mon 5 Jan 2026" in text


async def test_today_uses_the_bot_clock(harness: Harness) -> None:
    # Fri 27 Nov 2026 + 6 weeks = Fri 8 Jan 2027.
    text = await harness.say_text("!timeline assessment today")
    assert "Fri 8 Jan 2027" in text
    assert "6 weeks after Fri 27 Nov 2026" in text


async def test_review_dates(harness: Harness) -> None:
    reply = one(await harness.say("!timeline review 12 March 2026"))
    text = reply_text(reply)
    # 12 Mar 2026 + 2 weeks = 26 Mar; + 4 weeks = 9 Apr; + 12 weeks = 4 Jun.
    assert "Thu 26 Mar 2026" in text and "reg 20(7)" in text
    assert "Thu 9 Apr 2026" in text and "reg 20(10)" in text
    assert "Thu 4 Jun 2026" in text and "Devon" in text
    assert "8 weeks" in text and "reg 22(3)" in text
    assert ics_dates(reply) == [date(2026, 3, 26), date(2026, 4, 9), date(2026, 6, 4)]


async def test_amendment_dates(harness: Harness) -> None:
    reply = one(await harness.say("!timeline amendments 2026-01-05"))
    text = reply_text(reply)
    # 15 days beginning with Mon 5 Jan (day 1) run to Mon 19 Jan; 8 weeks = Mon 2 Mar.
    assert "Mon 19 Jan 2026" in text and "reg 22(2)" in text
    assert "Mon 2 Mar 2026" in text and "reg 22(3)" in text
    assert ics_dates(reply) == [date(2026, 1, 19), date(2026, 3, 2)]
    # The calendar entry says what the date is, not a sentence cut short.
    assert ics_summaries(reply) == [
        "SEND deadline: Last day of your 15 days to respond (at least)",
        "SEND deadline: Final amended plan issued",
    ]


async def test_no_calendar_summary_is_a_sentence_cut_short(harness: Harness) -> None:
    # Each summary is a step's label without a final " by": what is left must stand alone.
    steps = ["assessment", "draft-plan", "review", "amendments", "appeal"]
    steps += [f"tribunal-order {kind}" for kind in ("assess", "plan", "amend", "school")]
    for step in steps:
        for summary in ics_summaries(one(await harness.say(f"!timeline {step} 5/1/2026"))):
            last = summary.split()[-1].lower()
            assert last not in {"until", "by", "on", "before", "to", "run", "least"}, summary


async def test_appeal_from_31_december(harness: Harness) -> None:
    reply = one(await harness.say("!timeline appeal 31/12/2026"))
    text = reply_text(reply)
    # 31 Dec 2026 + 2 calendar months = Sun 28 Feb 2027 -> next working day Mon 1 Mar 2027.
    assert "Mon 1 Mar 2027" in text
    assert "2 calendar months after Thu 31 Dec 2026" in text
    assert "Sun 28 Feb 2027" in text and "next working day" in text
    assert "there is no 31 February 2027, so the last day of February" in text  # the month-end rule, when it applies
    assert "Tribunal Procedure Rules 2008" in text
    assert ics_dates(reply) == [date(2027, 3, 1)]


async def test_appeal_with_later_mediation_certificate(harness: Harness) -> None:
    # 2 Mar 2026 + 2 months = Sat 2 May; certificate 20 Apr + 1 month = Wed 20 May, later.
    text = await harness.say_text("!timeline appeal 2/3/2026 mediation 20/4/2026")
    assert "Wed 20 May 2026" in text
    assert "Mediation certificate: Mon 20 Apr 2026" in text
    assert "which is later" in text


@pytest.mark.parametrize(
    "command",
    [
        "!timeline appeal 2/3/2026 mediation certificate 20/4/2026",
        "!timeline appeal 2 March 2026 certificate: 20 April 2026",
        "!timeline appeal 2026-03-02 mediation=20/4/2026",
    ],
)
async def test_ways_of_giving_the_certificate_date(harness: Harness, command: str) -> None:
    assert "Wed 20 May 2026" in await harness.say_text(command)


async def test_appeal_christmas_and_august_rules(harness: Harness) -> None:
    # 25 Oct 2026 + 2 months = Fri 25 Dec 2026 -> first working day after 1 Jan 2027: Mon 4 Jan.
    text = await harness.say_text("!timeline appeal 25 Oct 2026")
    assert "Mon 4 Jan 2027" in text and "25 December and 1 January" in text
    # 15 Jun 2027 + 2 months = 15 Aug 2027 -> first working day after 31 Aug 2027: Wed 1 Sep.
    text = await harness.say_text("!timeline appeal 15/6/2027")
    assert "Wed 1 Sep 2027" in text and "August" in text


async def test_passed_appeal_deadline_is_flagged(harness: Harness) -> None:
    text = await harness.say_text("!timeline appeal 1/1/2026")
    # 1 Jan 2026 + 2 months = Sun 1 Mar 2026 -> Mon 2 Mar 2026, before 27 Nov 2026.
    assert "Mon 2 Mar 2026 (this date has passed)" in text
    assert "late appeal" in text


async def test_transfer_dates(harness: Harness) -> None:
    reply = one(await harness.say("!timeline transfer 2027"))
    text = reply_text(reply)
    assert "Mon 15 Feb 2027" in text and "Wed 31 Mar 2027" in text and "reg 18" in text
    assert "5 months" in text
    assert ics_dates(reply) == [date(2027, 2, 15), date(2027, 3, 31)]


@pytest.mark.parametrize(
    ("command", "dates"),
    [
        # send-facts (corrected): reg 44(2), counted from the order (Mon 1 Jun 2026).
        # Assess: tell within 2 weeks; no plan within 10 weeks; or the final plan within 14.
        ("!timeline tribunal-order assess 1 June 2026", [date(2026, 6, 15), date(2026, 8, 10), date(2026, 9, 7)]),
        # Make and maintain a plan: draft within 5 weeks, final within 11.
        ("!timeline tribunal-order plan 1/6/2026", [date(2026, 7, 6), date(2026, 8, 17)]),
        ("!timeline tribunal order to make a plan 1/6/2026", [date(2026, 7, 6), date(2026, 8, 17)]),
        # Amend: within 5 weeks. Change the school named: within 2 weeks.
        ("!timeline tribunal-order amend 1/6/2026", [date(2026, 7, 6)]),
        ("!timeline tribunal order change school 1/6/2026", [date(2026, 6, 15)]),
        ("!timeline tribunal-order 1/6/2026 school", [date(2026, 6, 15)]),
    ],
)
async def test_tribunal_order_dates_by_kind_of_order(harness: Harness, command: str, dates: list[date]) -> None:
    reply = one(await harness.say(command))
    assert ics_dates(reply) == dates
    text = reply_text(reply)
    assert "reg 44(2)" in text
    for d in dates:
        assert f"{d:%a} {d.day} {d:%b} {d.year}" in text


async def test_tribunal_order_without_its_kind_asks_which(harness: Harness) -> None:
    outcome = await harness.outcome("!timeline tribunal-order 1/6/2026")
    assert outcome.status == "usage"
    text = reply_text(outcome.replies[0])
    assert "Which kind of order?" in text
    for kind in ("assess", "plan", "amend", "school"):
        assert kind in text


@pytest.mark.parametrize(
    ("command", "title"),
    [
        ("!timeline annual review 5/1/2026", "Timeline: Annual review"),
        ("!timeline Annual-Review 5/1/2026", "Timeline: Annual review"),
        ("!timeline review meeting 5/1/2026", "Timeline: Annual review"),
        ("!timeline tribunal 5/1/2026", "Timeline: Appeal to the First-tier Tribunal (SEND)"),
        ("!timeline appeal to tribunal 5/1/2026", "Timeline: Appeal to the First-tier Tribunal (SEND)"),
        ("!timeline draft plan 5/1/2026", "Timeline: Draft EHC plan"),
        ("!timeline needs assessment 5/1/2026", "Timeline: EHC needs assessment"),
        ("!timeline proposed amendments 5/1/2026", "Timeline: Proposed amendments to a plan"),
        ("!timeline phase transfer 2027", "Timeline: Phase transfer"),
        ("!timeline 5/1/2026 assessment", "Timeline: EHC needs assessment"),  # the step after the date
    ],
)
async def test_natural_step_names_are_understood(harness: Harness, command: str, title: str) -> None:
    reply = one(await harness.say(command))
    assert reply.card is not None and reply.card.title == title


async def test_draft_plan_gives_the_15_days(harness: Harness) -> None:
    reply = one(await harness.say("!timeline draft plan 5/1/2026"))
    # reg 13(1): at least 15 days beginning with the day served: Mon 5 Jan is day 1, Mon 19 Jan day 15.
    assert ics_dates(reply) == [date(2026, 1, 19)]
    assert "reg 13(1)" in reply_text(reply)


@pytest.mark.parametrize(
    "command",
    [
        "!timeline appeal 5/1/2026 and mediation cert 20/2/2026",
        "!timeline appeal 5/1/2026, mediation certificate dated 20/2/2026",
        "!timeline appeal 5/1/2026 then cert 20/2/2026",
    ],
)
async def test_appeal_and_mediation_dates_in_parents_words(harness: Harness, command: str) -> None:
    reply = one(await harness.say(command))
    # 5 Jan + 2 months = Thu 5 Mar; 20 Feb + 1 month = Fri 20 Mar, the later.
    assert ics_dates(reply) == [date(2026, 3, 20)]


async def test_the_mediation_step_alone_asks_for_both_dates(harness: Harness) -> None:
    outcome = await harness.outcome("!timeline mediation 20/2/2026")
    assert outcome.status == "usage"
    assert "needs two dates" in reply_text(outcome.replies[0])


async def test_the_usage_line_is_written_for_parents(harness: Harness) -> None:
    outcome = await harness.outcome("!timeline bogus 5/1/2026")
    text = reply_text(outcome.replies[0])
    assert "Usage: !timeline [step] [your date]" in text
    assert "|" not in text and "when…" not in text


async def test_two_computations_never_share_a_calendar_event_id(harness: Harness) -> None:
    # Two children's appeals due the same day must be two events in a phone calendar.
    first = one(await harness.say("!timeline appeal 5/1/2026"))
    second = one(await harness.say("!timeline appeal 5/1/2026"))
    uids = [str(e.get("uid")) for r in (first, second) for e in Calendar.from_ical(r.files[0].content).walk("VEVENT")]
    assert len(uids) == 2 and len(set(uids)) == 2
    # Within one file, each step has its own id.
    many = Calendar.from_ical(one(await harness.say("!timeline assessment 5/1/2026")).files[0].content)
    ids = [str(e.get("uid")) for e in many.walk("VEVENT")]
    assert len(ids) == len(set(ids)) == 3


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("!timeline appeal 05/01", "has no year"),
        ("!timeline assessment 31/02/2026", "There is no 31 February 2026"),
        ("!timeline review 12/25/2026", "did you mean 25/12/2026"),
        ("!timeline appeal", "date of the decision letter"),
        ("!timeline appeal 1/3/2026 mediation", "mediation certificate"),
        ("!timeline appeal 1/3/2026 mediation 31/9/2026", "There is no 31 September 2026"),
        ("!timeline transfer 27", "four digits"),
        ("!timeline transfer 2014", "from 2015 to 2100 (not 2014)"),
        ("!timeline transfer next year", "four digits"),
        ("!timeline bogus 1/1/2026", "should be one of"),
        ("!timeline 5/1/2026", "should be one of"),
        ("!timeline appeal @everyone", "couldn't read"),
        ("!timeline assessment " + "9" * 3000, "couldn't read"),
    ],
)
async def test_bad_input_gets_a_clear_one_line_message(harness: Harness, command: str, message: str) -> None:
    outcome = await harness.outcome(command)
    assert outcome.status == "usage"
    text = reply_text(outcome.replies[0])
    assert message in text
    assert "Usage: !timeline" in text
    assert not outcome.replies[0].files
    assert "@everyone" not in text
    assert len(text) < 600


@pytest.mark.parametrize(
    "command",
    [
        "!timeline",
        "!timeline assessment 5/1/2026",
        "!timeline review 12/3/2026",
        "!timeline amendments 5/1/2026",
        "!timeline appeal 31/12/2026",
        "!timeline transfer 2027",
        "!timeline tribunal-order plan 1/6/2026",
        "!timeline draft-plan 1/6/2026",
    ],
)
async def test_every_timeline_answer_shows_when_its_content_was_reviewed(harness: Harness, command: str) -> None:
    reply = one(await harness.say(command))
    assert reply.card is not None
    fields = {f.name: f.value for f in reply.card.fields}
    # Every section in timeline.toml was last reviewed on Sat 28 November 2026.
    assert fields["Reviewed"] == "Saturday 28 November 2026"
    assert {s.reviewed for s in harness.core.cogs["timeline"].content.timeline.values()} == {  # type: ignore[attr-defined]
        date(2026, 11, 28)
    }


async def test_the_reviewed_date_is_the_sections_own(harness: Harness) -> None:
    cog = harness.core.cogs["timeline"]
    assert isinstance(cog, TimelineCog)
    content = cog.content
    timeline = {k: s.model_copy(update={"reviewed": date(2026, 1, 2)}) for k, s in content.timeline.items()}
    edited = TimelineCog(harness.core, dataclasses.replace(content, timeline=timeline))
    fields = {f.name: f.value for f in edited.overview_card("!").fields}
    assert fields["Reviewed"] == "Friday 2 January 2026"
    today = date(2026, 11, 27)
    deadlines, given = edited._appeal("31/12/2026", today)
    reply = edited._dated_reply("appeal", deadlines, given, today)
    assert reply.card is not None
    assert {f.name: f.value for f in reply.card.fields}["Reviewed"] == "Friday 2 January 2026"


async def test_appeal_moved_into_august_by_the_weekend_rule_says_it_is_the_safe_date(harness: Harness) -> None:
    # 31 May 2027 + 2 months = Sat 31 Jul 2027 -> Mon 2 Aug 2027 (rule 12(2)), in August.
    reply = one(await harness.say("!timeline appeal 31/5/2027"))
    text = reply_text(reply)
    assert "Mon 2 Aug 2027" in text
    assert "This is the safe date to aim for; get advice if you need the later date rule 12(3) may allow." in text
    assert ics_dates(reply) == [date(2027, 8, 2)]


async def test_transfer_takes_the_year_from_a_full_date_of_the_move(harness: Harness) -> None:
    text = await harness.say_text("!timeline transfer 1/9/2027")
    assert "so the year of the move is 2027" in text
    assert "Mon 15 Feb 2027" in text and "Wed 31 Mar 2027" in text
