from tests.support.harness import Harness


async def test_help_lists_itself(harness: Harness) -> None:
    text = await harness.say_text("!help")
    assert "!help" in text
    assert "SENDIASS" in text
