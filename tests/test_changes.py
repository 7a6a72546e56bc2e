"""!changes: reform proposals with dates and sources, and the law that still applies."""

from cogs.changes import ChangesCog
from tests.harness import Harness


async def test_changes_separates_proposals_from_law(harness: Harness) -> None:
    replies = await harness.say("!changes")
    assert len(replies) == 1 and replies[0].card is not None
    card = replies[0].card
    fields = {f.name: f.value for f in card.fields}
    text = "\n".join([card.title, card.body, *fields, *fields.values()])
    assert "Children and Families Act 2014" in card.body and "SEND Regulations 2014" in card.body
    assert "until Parliament changes them" in card.body
    # Each reform step, as a proposal, with its date and a source.
    assert "2 March 2023" in text and "Improvement Plan" in text
    assert "Change Programme" in text and "32 local authorities" in text
    assert "23 February 2026" in text and "18 May 2026" in text and "Every Child Achieving and Thriving" in text
    for item in harness.core.cogs["changes"].content.reform.items:  # type: ignore[attr-defined]
        value = fields[item.title]
        assert "Status:" in value
        assert any(f"]({s.url})" in value for s in item.sources)
    assert "27 November 2026" in fields["As of"]
    assert card.footer and "Not legal advice" in card.footer


async def test_reform_alias(harness: Harness) -> None:
    assert (await harness.say("!reform"))[0].card == (await harness.say("!changes"))[0].card


async def test_changes_cog_is_registered(harness: Harness) -> None:
    assert isinstance(harness.core.cogs["changes"], ChangesCog)
