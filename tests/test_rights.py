"""!rights through the real dispatcher, plus the lookup/topic_card interface other cogs use."""

import pytest

from bot.model import Reply
from cogs.rights import RightsCog
from tests.harness import Harness, reply_text

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
        "Exclusions",
        "Disagreements and appeals",
        "Discrimination and adjustments",
    ):
        assert group in text
    for topic in rights_cog(harness).content.topics:
        assert topic.id in text


@pytest.mark.parametrize(
    ("query", "topic_id"),
    [
        ("best endeavours", "best-endeavours"),
        ("best endevours", "best-endeavours"),  # a typo
        ("can they send my child home early", "exclusions"),
        ("do I need a diagnosis", "ehc-needs-assessment"),
        ("6000", "ehc-needs-assessment"),
        ("does the school have to spend £6,000 first?", "ehc-needs-assessment"),
        ("ehc-needs-assessment", "ehc-needs-assessment"),
        ("section f", "section-f"),
        ("the LA says it has no money for the provision", "section-f"),
        ("annual review", "annual-reviews"),
        ("proposed amendments", "annual-reviews"),
        ("phase transfer", "phase-transfer"),
        ("reasonable adjustments", "reasonable-adjustments"),
        ("informal exclusion", "exclusions"),
        ("is the school allowed to exclude my autistic son", "exclusions"),
        ("personal budget", "personal-budgets"),
        ("they want to cease the plan", "ceasing-a-plan"),
        ("how do I appeal a refusal to assess", "appeals-and-mediation"),
        ("mediation certificate", "appeals-and-mediation"),
        ("disability discrimination", "disability-discrimination"),
        ("graduated approach", "sen-support"),
        ("draft plan", "draft-plan"),
        ("how long does an ehcp take", "assessment-timescales"),
        ("the LA missed the deadline", "assessment-timescales"),
        ("you have to wait a year", "ehc-needs-assessment"),
        ("the senco says he is not bad enough for an ehcp", "ehc-needs-assessment"),
        ("they keep phoning me to collect him", "exclusions"),
        ("council wants to end my son's plan", "ceasing-a-plan"),
        ("how long do I have to appeal?", "appeals-and-mediation"),
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


@pytest.mark.parametrize(
    "query", ["what is the weather like", "school", "zzzz", "the", "school transport", "my son is being bullied"]
)
async def test_weak_matches_are_not_answered_as_if_right(harness: Harness, query: str) -> None:
    assert rights_cog(harness).lookup(query) is None
    replies = await harness.say(f"!rights {query}")
    assert len(replies) == 1 and replies[0].card is None
    assert "not sure which topic" in replies[0].text
    assert "!rights" in replies[0].text


async def test_ambiguous_question_suggests_the_two_closest(harness: Harness) -> None:
    replies = await harness.say("!rights school")
    text = replies[0].text
    assert "The closest topics are" in text
    assert text.count("`!rights ") == 2  # two suggestions, each with the command to see it


@pytest.mark.parametrize("query", ["xyzzy", "a" * 5000])
async def test_gibberish_gets_no_made_up_suggestions(harness: Harness, query: str) -> None:
    text = (await harness.say(f"!rights {query}"))[0].text
    assert "not sure which topic" in text
    assert "closest" not in text
    assert "Type `!rights` to see every topic." in text


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
    assert hits[0] == ("The best endeavours duty", "best-endeavours")
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
