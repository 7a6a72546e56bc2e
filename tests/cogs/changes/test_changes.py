"""!changes: reform proposals with dates and sources, and the law that still applies."""

import re
from urllib.parse import urlsplit

from bot.markup import to_plain
from cogs.changes import ChangesCog
from tests.support.harness import Harness


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


async def test_the_law_that_applies_now_lists_only_legislation(harness: Harness) -> None:
    # The consultation is a proposal: it belongs on the White Paper item, never under the law.
    card = (await harness.say("!changes"))[0].card
    assert card is not None
    fields = {f.name: f.value for f in card.fields}
    law = fields["The law that applies now"]
    urls = re.findall(r"\]\((https://[^)]+)\)", law)
    assert urls and all(urlsplit(u).netloc == "www.legislation.gov.uk" for u in urls), law
    assert "consultation" not in law.lower()
    white_paper = fields["Schools White Paper: Every Child Achieving and Thriving"]
    assert "send-reform-putting-children-and-young-people-first" in white_paper


async def test_the_status_says_proposals_have_not_changed_the_law_and_gives_the_proposed_dates(
    harness: Harness,
) -> None:
    card = (await harness.say("!changes"))[0].card
    assert card is not None
    assert card.body.startswith(
        "**No. EHC plans have not been abolished.** These proposals have not changed the law: "
        "the Children and Families Act 2014 and the SEND Regulations 2014 still apply, "
        "and they will until Parliament changes them."
    )
    assert "the law has not changed" not in card.body  # an overclaim: only these proposals have not
    assert (
        "The White Paper proposes National Inclusion Standards by 2028 and Individual Support Plans "
        "from September 2029." in card.body
    )
    assert "from 2028 onwards" not in card.body


async def test_reform_item_wording(harness: Harness) -> None:
    card = (await harness.say("!changes"))[0].card
    assert card is not None
    fields = {f.name: f.value for f in card.fields}
    plan = fields["SEND and AP Improvement Plan: Right Support, Right Place, Right Time"]
    assert "a national qualification for SENCos (the SENCo NPQ)" in plan
    assert "NPQ qualification" not in plan  # "qualification" twice
    programme = to_plain(fields["The SEND and AP Change Programme"])
    assert "(which announced the Change Programme)" in programme
    assert "sets out the programme" not in programme
