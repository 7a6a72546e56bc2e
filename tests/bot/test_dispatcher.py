"""The dispatcher and the central error handler, through the real core and SQLite storage."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.cog import Cog
from bot.commands import command
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UserError
from bot.model import Reply
from tests.support.harness import Harness


class Sample(Cog):
    name = "sample"

    @command("boom", help="Always fails.")
    async def boom(self, ctx: CommandContext) -> str:
        raise RuntimeError("secret internal detail")

    @command("echo", help="Echo.", aliases=("say",), cooldown=(2, 60))
    async def echo(self, ctx: CommandContext, n: int) -> str:
        return f"n={n}"

    @command("admin", help="Moderators only.", moderator_only=True)
    async def admin(self, ctx: CommandContext) -> list[Reply | str]:
        return ["one", Reply("two", ephemeral=True)]

    @command("admin purge", help="A subcommand.", moderator_only=True)
    async def purge(self, ctx: CommandContext, who: str) -> str:
        return f"purged {who}"

    @command("missing", help="A user error.")
    async def missing(self, ctx: CommandContext) -> str:
        raise UserError("No report #9.")

    @command("quiet", help="Deletes its trigger.")
    async def quiet(self, ctx: CommandContext) -> None:
        ctx.delete_trigger = True


def sample_setup(core: BotCore) -> Cog:
    return Sample(core)


@pytest.fixture
async def h(tmp_path: Path):
    harness = await Harness.create(tmp_path, cog_modules=["cogs.help"])
    harness.core.add_cog(Sample(harness.core))
    yield harness
    await harness.close()


async def test_unexpected_error_gives_reference_and_bot_keeps_serving(h: Harness, caplog) -> None:
    caplog.set_level(logging.ERROR)
    out = await h.outcome("!boom")
    assert out.status == "error" and out.error_ref
    text = out.replies[0].text
    assert out.error_ref in text
    assert "secret internal detail" not in text and "Traceback" not in text
    # the log has the reference and the traceback, for the moderators
    assert any(out.error_ref in r.getMessage() and r.exc_info for r in caplog.records)
    assert await h.say_text("!echo 5") == "n=5"


async def test_usage_error_is_one_line_hint_with_usage(h: Harness) -> None:
    out = await h.outcome("!echo five")
    assert out.status == "usage"
    assert out.replies[0].ephemeral
    assert "`n` should be a whole number" in out.replies[0].text
    assert "Usage: `!echo <n>`" in out.replies[0].text


async def test_alias_and_case_insensitive_name(h: Harness) -> None:
    assert await h.say_text("!SAY 3") == "n=3"


async def test_member_is_refused_moderator_command_politely(h: Harness) -> None:
    out = await h.outcome("!admin", moderator=False)
    assert out.status == "denied"
    assert "for the forum's moderators" in out.replies[0].text
    out = await h.outcome("!admin purge bob", moderator=False)
    assert out.status == "denied"


async def test_moderator_runs_group_and_subcommand(h: Harness) -> None:
    out = await h.outcome("!admin", moderator=True)
    assert [r.text for r in out.replies] == ["one", "two"]
    assert out.replies[1].ephemeral
    assert await h.say_text("!admin purge bob", moderator=True) == "purged bob"


async def test_cooldown_per_user(h: Harness) -> None:
    assert (await h.outcome("!echo 1", user_id="a")).status == "ok"
    assert (await h.outcome("!echo 2", user_id="a")).status == "ok"
    third = await h.outcome("!echo 3", user_id="a")
    assert third.status == "cooldown"
    assert "Please wait" in third.replies[0].text
    assert (await h.outcome("!echo 4", user_id="b")).status == "ok"


async def test_user_error_and_delete_trigger(h: Harness) -> None:
    out = await h.outcome("!missing")
    assert out.status == "user_error" and out.replies[0].text == "No report #9."
    assert (await h.outcome("!quiet")).delete_trigger is True


async def test_unknown_command_suggests_closest(h: Harness) -> None:
    out = await h.outcome("!ehco 1")
    assert out.status == "unknown"
    assert "Did you mean `!echo`?" in out.replies[0].text


async def test_non_commands_are_ignored(h: Harness) -> None:
    for text in ["hello", "! not a command", "!!!", "!", "   ", "!123"]:
        assert await h.core.dispatcher.handle(h.incoming(text)) is None


async def test_invoke_with_typed_arguments(h: Harness) -> None:
    spec = h.core.dispatcher.get("echo")
    assert spec is not None
    out = await h.core.dispatcher.invoke(spec, h.incoming("/echo", surface="slash"), {"n": "12"})
    assert out.replies[0].text == "n=12"
    bad = await h.core.dispatcher.invoke(spec, h.incoming("/echo", surface="slash"), {})
    assert bad.status == "usage"


async def test_actions_run_with_the_same_error_handling(h: Harness) -> None:
    async def failing(ctx: CommandContext, **kw: object) -> None:
        raise RuntimeError("nope")

    h.core.dispatcher.register_action("explode", failing)
    out = await h.core.dispatcher.perform("explode", h.incoming("x"))
    assert out.status == "error" and out.error_ref
    assert (await h.core.dispatcher.perform("nonexistent", h.incoming("x"))).status == "unknown"


async def test_duplicate_names_are_refused(h: Harness) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        h.core.dispatcher.register(Sample(h.core).commands())


async def test_help_shows_moderator_section_only_to_moderators(h: Harness) -> None:
    member = await h.say_text("!help", moderator=False)
    moderator = await h.say_text("!help", moderator=True)
    assert "For moderators" not in member and "!admin" not in member
    assert "For moderators" in moderator and "!admin" in moderator
    detail = await h.say_text("!help admin", moderator=True)
    assert "!admin purge <who>" in detail
    assert "no command called" in await h.say_text("!help nosuch")
