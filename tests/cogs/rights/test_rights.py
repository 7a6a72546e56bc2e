"""!rights through the real dispatcher, plus the lookup/topic_card interface other cogs use."""

import pytest

from bot.model import Reply
from cogs.content.render import SIGNPOST
from cogs.rights import RightsCog
from tests.support.harness import Harness, reply_text

FOOTER_WORDS = ("Not legal advice", "SENDIASS", "IPSEA", "Contact", "forum")


def rights_cog(h: Harness) -> RightsCog:
    cog = h.core.cogs["rights"]
    assert isinstance(cog, RightsCog)
    return cog


async def test_rights_alone_lists_topics_in_groups(harness: Harness) -> None:
    text = await harness.say_text("!rights")
    for group in (
        "Assessment and plans",
        "School and support",
        "Exclusions and time out of school",
        "Disagreements, complaints and appeals",
        "Discrimination and adjustments",
        "Getting help",
    ):
        assert group in text
    for topic in rights_cog(harness).content.topics:
        assert topic.id in text


@pytest.mark.parametrize(
    ("query", "topic_id"),
    [
        # A topic's id, title or keyword is certain, whatever the examples say.
        ("best endeavours", "best-endeavours"),
        ("best endevours", "best-endeavours"),  # a typo of a keyword
        ("ehc-needs-assessment", "ehc-needs-assessment"),
        ("6000", "ehc-needs-assessment"),
        ("section f", "section-f"),
        ("annual review", "annual-reviews"),
        ("proposed amendments", "amending-a-plan"),
        ("phase transfer", "phase-transfer"),
        ("reasonable adjustments", "reasonable-adjustments"),
        ("personal budget", "personal-budgets"),
        ("mediation certificate", "appeals-and-mediation"),
        ("graduated approach", "sen-support"),
        ("draft plan", "draft-plan"),
        ("school transport", "school-transport"),
        ("eotas", "eotas"),
        ("section 19", "cannot-attend-school"),
        ("ombudsman", "complaints"),
        ("sendiass", "free-advice"),
        # Questions, as parents type them, that the examples teach.
        ("can they send my child home early", "exclusions"),
        ("do I need a diagnosis", "ehc-needs-assessment"),
        ("does the school have to spend £6,000 first?", "ehc-needs-assessment"),
        ("is the school allowed to exclude my autistic son", "exclusions"),
        ("they keep phoning me to collect him", "exclusions"),
        ("council wants to end my son's plan", "ceasing-a-plan"),
        ("how long do I have to appeal?", "appeals-and-mediation"),
        ("the council stopped his school taxi", "school-transport"),
        ("we are moving to a different county, what happens to the ehcp", "moving-to-another-area"),
        ("school wont let her carry her inhaler", "medical-conditions"),
        ("hes not allowed on the year 6 residential because of his autism", "trips-and-activities"),
        # Claims parents bring lead to the reform status, which separates proposal from law.
        ("EHCPs have been abolished", "reform-status"),
        ("the law has changed", "reform-status"),
        ("the new system has started", "reform-status"),
    ],
)
async def test_questions_find_the_right_topic(harness: Harness, query: str, topic_id: str) -> None:
    cog = rights_cog(harness)
    topic = cog.lookup(query)
    assert topic is not None, query
    assert topic.id == topic_id
    replies = await harness.say(f"!rights {query}")
    assert len(replies) == 1 and replies[0].card is not None
    assert replies[0].card.title == topic.title


async def test_every_answer_shows_answer_sources_reviewed_date_and_footer(harness: Harness) -> None:
    cog = rights_cog(harness)
    for topic in cog.content.topics:
        replies = await harness.say(f"!rights {topic.id}")
        card = replies[0].card
        assert card is not None and card.title == topic.title
        fields = {f.name: f.value for f in card.fields}
        for source in topic.sources:
            assert f"]({source.url})" in fields["Sources"]
        assert str(topic.reviewed.year) in fields["Reviewed"]
        assert card.footer is not None
        for word in FOOTER_WORDS:
            assert word in card.footer


async def test_reform_claim_answer_says_proposals_are_not_law(harness: Harness) -> None:
    text = await harness.say_text("!rights EHCPs have been abolished")
    assert "have not been abolished" in text
    assert "Children and Families Act 2014" in text
    assert "proposals" in text.lower()


@pytest.mark.parametrize("query", ["what is the weather like", "zzzz", "the", "how do I apply for DLA", "xyzzy"])
async def test_out_of_scope_questions_are_refused_honestly(harness: Harness, query: str) -> None:
    assert rights_cog(harness).lookup(query) is None
    replies = await harness.say(f"!rights {query}")
    assert len(replies) == 1 and replies[0].card is None
    text = replies[0].text
    assert "I don't have an answer about that" in text
    assert "Did you mean" not in text  # nothing unrelated is suggested
    assert "Type `!rights` to see every topic." in text
    assert SIGNPOST in text


@pytest.mark.parametrize("query", ["school", "plan"])
async def test_a_vague_question_gets_plausible_topics_and_signposting(harness: Harness, query: str) -> None:
    assert rights_cog(harness).lookup(query) is None
    text = (await harness.say(f"!rights {query}"))[0].text
    assert "not sure which topic" in text
    assert "Did you mean" in text
    assert 1 <= text.count("`!rights ") <= 2  # one or two suggestions (the list command is `!rights`)
    assert SIGNPOST in text


async def test_a_long_input_is_refused_without_suggestions(harness: Harness) -> None:
    text = (await harness.say("!rights " + "a" * 5000))[0].text
    assert "Did you mean" not in text
    assert SIGNPOST in text


@pytest.mark.parametrize(
    "query",
    [
        "@everyone @here <@123> <!channel> [click](https://evil.example) **bold** `code`",
        "x" * 10_000,
        "\x00\x01\u202e\ufeff",
        "'\"“unbalanced",
    ],
)
async def test_hostile_input_neither_crashes_nor_echoes(harness: Harness, query: str) -> None:
    outcome = await harness.outcome(f"!rights {query}")
    assert outcome.status == "ok"
    text = "\n".join(reply_text(r) for r in outcome.replies)
    assert "evil.example" not in text
    assert "@everyone" not in text and "<@123>" not in text


async def test_lookup_and_topic_card_interface(harness: Harness) -> None:
    cog = rights_cog(harness)
    topic = cog.lookup("best endeavours")
    assert topic is not None
    assert topic.id == "best-endeavours" and topic.title and topic.body
    assert topic.sources[0].label and topic.sources[0].url.startswith("https://")
    card = cog.topic_card(topic)
    assert card.title == topic.title
    assert "section/66" in {f.name: f.value for f in card.fields}["Sources"]
    assert cog.lookup("") is None


async def test_complete_topic_for_slash_autocomplete(harness: Harness) -> None:
    cog = rights_cog(harness)
    everything = await cog.complete_topic("")
    assert 0 < len(everything) <= 25
    assert all(len(label) <= 100 for label, _ in everything)
    hits = await cog.complete_topic("endeav")
    assert hits[0] == ("The best endeavours duty (academies too)", "best-endeavours")
    assert len(await cog.complete_topic("x" * 500)) <= 25
    spec = harness.core.dispatcher.get("rights")
    assert spec is not None and spec.args[0].autocomplete == "complete_topic"


async def test_rights_reply_is_a_card_not_ephemeral(harness: Harness) -> None:
    replies = await harness.say("!rights section f")
    assert isinstance(replies[0], Reply) and not replies[0].ephemeral


async def test_reform_answer_points_to_changes(harness: Harness) -> None:
    text = await harness.say_text("!rights the law has changed")
    assert "!changes" in text
    assert "!changes" not in (await harness.say("!changes"))[0].card.body  # type: ignore[union-attr]


# -- the failure kinds of the 75-question trial (issue 10), one regression test each ---------


def test_a_section_letter_is_kept_so_section_i_is_not_the_draft_plan_card(harness: Harness) -> None:
    from cogs.rights.match import words

    assert words("section I names a school") == ["sectioni", "names", "school"]
    assert words("s.19 alternative provision") == ["s19", "alternative", "provision"]
    assert words("secton 19") == ["s19"]  # a typo of "section" still joins its number
    cog = rights_cog(harness)
    found = cog.lookup("section 19 alternative provision")
    assert found is not None and found.id == "cannot-attend-school"
    final = cog.match("we got the final plan and section I names a school we didnt want")
    # The appeal card answers it; so does the naming card, which says how to appeal section I.
    assert final.best is None or final.best.key in {"appeals-and-mediation", "naming-a-school"}
    assert (final.best or final.ranked[0]).key != "draft-plan"
    naming = cog.content.topic("naming-a-school")
    assert naming is not None and "appeal section I" in naming.body


@pytest.mark.parametrize(
    ("query", "topic_id"),
    [
        ("is the EHCP legally binding", "section-f"),
        ("does the school have to follow the ehcp", "section-f"),
        ("how often should the ehcp be reviewed, hes 4", "annual-reviews"),
    ],
)
async def test_the_bare_word_ehcp_does_not_mean_asking_for_an_assessment(
    harness: Harness, query: str, topic_id: str
) -> None:
    found = rights_cog(harness).lookup(query)
    assert found is not None and found.id == topic_id


@pytest.mark.parametrize(
    ("query", "not_topic"),
    [
        ("he has speech delay", "assessment-timescales"),  # "delay"
        ("our council has opened a consultation on closing the special school", "reform-status"),  # "consultation"
        ("suspended 3 times this term, is there a limit", "assessment-timescales"),  # "time limits"
    ],
)
async def test_one_common_word_does_not_decide_the_answer(harness: Harness, query: str, not_topic: str) -> None:
    found = rights_cog(harness).lookup(query)
    assert found is None or found.id != not_topic


async def test_a_suspension_limit_question_is_about_exclusions(harness: Harness) -> None:
    found = rights_cog(harness).lookup("suspended 3 times this term, is there a limit")
    assert found is not None and found.id == "exclusions"


@pytest.mark.parametrize("query", ["cessation", "the LA sent a cessation letter"])
async def test_cessation_means_ceasing_a_plan(harness: Harness, query: str) -> None:
    found = rights_cog(harness).lookup(query)
    assert found is not None and found.id == "ceasing-a-plan"


@pytest.mark.parametrize(
    "query", ["pick him up at lunch", "part time timetable", "keep him at home til they get more staff"]
)
async def test_informal_exclusions_in_parents_words_are_answered(harness: Harness, query: str) -> None:
    found = rights_cog(harness).lookup(query)
    assert found is not None and found.id in {"part-time-timetables", "exclusions"}


async def test_complaining_about_the_council_has_its_own_answer(harness: Harness) -> None:
    reply = (await harness.say("!rights how do i complain about the council"))[0]
    assert reply.card is not None and "Ombudsman" in reply.card.body


@pytest.mark.parametrize("query", ["he has speech delay", "school", "how do I apply for DLA", "xyzzy"])
async def test_every_refusal_signposts_free_help(harness: Harness, query: str) -> None:
    reply = (await harness.say(f"!rights {query}"))[0]
    assert reply.card is None
    assert SIGNPOST in reply.text


def test_a_close_related_topic_is_offered_as_also_see_and_a_far_one_is_not() -> None:
    from cogs.content.model import MatcherSettings
    from cogs.rights.match import Match, Signals, decide

    settings = MatcherSettings(coefficients=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0], threshold=0.5, also_gap=1.0)
    related = {"exclusions": frozenset({"part-time-timetables"})}
    signals = Signals(top="exclusions", lead=2.0, best=4.0, retrieval=0.5, coverage=1.0, words=5)
    close = [Match("exclusions", 4.0), Match("part-time-timetables", 3.5), Match("complaints", 1.0)]
    assert [m.key for m in decide(close, signals, settings, related).also] == ["part-time-timetables"]
    far = [Match("exclusions", 4.0), Match("part-time-timetables", 2.5), Match("complaints", 1.0)]
    assert decide(far, signals, settings, related).also == ()
    unrelated = [Match("exclusions", 4.0), Match("complaints", 3.9)]
    assert decide(unrelated, signals, settings, related).also == ()


async def test_also_see_is_shown_on_the_card(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from cogs.rights.match import Match, MatchResult

    cog = rights_cog(harness)
    best, also = Match("exclusions", 4.0), Match("part-time-timetables", 3.5)
    monkeypatch.setattr(cog, "match", lambda query: MatchResult(best, (best, also), also=(also,)))
    card = (await harness.say("!rights anything"))[0].card
    assert card is not None and card.title == cog.content.topic("exclusions").title  # type: ignore[union-attr]
    fields = {f.name: f.value for f in card.fields}
    assert "`!rights part-time-timetables`: Part-time" in fields["Also see"]


def test_reading_many_texts_at_once_gives_what_reading_each_gives() -> None:
    """The matcher reads its examples in one pass (words_many); a question is read alone
    (words). Both must see the same words, or the matcher learns one language and hears another."""
    from cogs.content.model import load_content
    from cogs.rights.match import words, words_many

    content = load_content()
    texts = [t for v in content.examples.values() for t in v] + list(content.off_topic)
    texts += ["section\ni", "6,\n000", "a\x00b section\x00i", "café £6,000 s.19 reg 44", "", "x" * 3000]
    texts += ["section i " * 300, "s 19 " * 130, "a " * 400]
    assert words_many(texts) == [words(t) for t in texts]


def test_the_whole_array_bm25_index_is_the_librarys_own() -> None:
    """The matcher builds bm25s's index with numpy (for speed); it must be exactly the index
    bm25s builds itself, entry for entry."""
    import bm25s
    import numpy as np

    from cogs.rights.match.bm25 import whole_array_bm25

    rng = np.random.default_rng(7)
    docs = [[int(t) for t in rng.integers(0, 300, size=int(rng.integers(1, 40)))] for _ in range(1500)]
    library = bm25s.BM25(k1=1.2, b=0.5)
    library.index((docs, {i: i for i in range(300)}), show_progress=False)  # (it adds to the dict)
    ours = whole_array_bm25(bm25s, np)(k1=1.2, b=0.5)
    ours.index((docs, {i: i for i in range(300)}), show_progress=False)
    assert np.array_equal(library.scores["indptr"], ours.scores["indptr"])
    assert np.array_equal(library.scores["indices"], ours.scores["indices"])
    assert np.allclose(library.scores["data"], ours.scores["data"], rtol=1e-6)
    query = [3, 17, 250]
    assert np.allclose(library.get_scores_from_ids(query), ours.get_scores_from_ids(query), rtol=1e-6)
