"""Every card the content cogs produce fits Discord's embed limits, so nothing is cut off
mid-sentence on the platform with the tightest limits."""

from bot.model import Card
from tests.support.harness import Harness


def assert_fits_discord(card: Card) -> None:
    assert len(card.title) <= 256
    assert len(card.body) <= 4096
    assert len(card.fields) <= 25
    for f in card.fields:
        assert 0 < len(f.name) <= 256, f.name
        assert 0 < len(f.value) <= 1024, (card.title, f.name, len(f.value))
    assert len(card.footer or "") <= 2048
    total = len(card.title) + len(card.body) + len(card.footer or "")
    total += sum(len(f.name) + len(f.value) for f in card.fields)
    assert total <= 6000, (card.title, total)


async def test_all_content_cards_fit(harness: Harness) -> None:
    commands = ["!rights", "!changes", "!timeline", "!timeline transfer 2027"]
    commands += [f"!rights {t.id}" for t in harness.core.cogs["rights"].content.topics]  # type: ignore[attr-defined]
    for kind in ("assessment", "draft-plan", "review", "amendments", "appeal", "tribunal-order assess"):
        commands.append(f"!timeline {kind} 31/12/2026")
    commands.append("!timeline appeal 31/12/2026 mediation 31/1/2027")
    for command in commands:
        replies = await harness.say(command)
        assert replies and replies[0].card is not None, command
        assert_fits_discord(replies[0].card)


async def test_help_describes_the_content_commands(harness: Harness) -> None:
    text = await harness.say_text("!help")
    for name in ("!rights", "!timeline", "!changes"):
        assert name in text
    text = await harness.say_text("!help timeline")
    assert "!timeline appeal 31/12/2026" in text
    assert "day first" in text
