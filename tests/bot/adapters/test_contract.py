"""The contract every adapter keeps (bot/adapters/base.py), checked the same way on each.

One set of tests runs against the console adapter, the Discord adapter (real discord.py
against tests/support/fakes/discord_fake.py) and the Slack adapter (real slack-bolt and slack_sdk
against tests/support/fakes/slack_fake.py). Each platform is driven through a `Surface`: a member
types a !command in a public channel, and the test reads back what the channel saw and what
only the member saw. Nothing here stands in for an adapter; only the platforms are fakes.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.choices import Option
from bot.cog import Cog
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UserError
from bot.messenger import DeliveryError
from bot.model import ChannelRef, Reply
from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID
from tests.support.fakes.slack_fake import TEAM_ID, message_event
from tests.support.harness import Harness
from tests.support.slack import ADMIN, MEMBER, running

DM_CHANNEL_ID = 250000000000000009  # the member's direct message with the bot, on Discord
REF_RE = re.compile(r"ref `?([0-9a-f]{6})`?")
NOT_REMOVED = "couldn't remove your message"


PICK = "contract.pick"


class ContractCog(Cog):
    """One command per promise the adapters make."""

    name = "contract"

    def __init__(self, core: BotCore) -> None:
        super().__init__(core)
        core.dispatcher.register_choice(PICK, self.picked)

    @command("contract public", help="Answers in the channel.")
    async def public(self, ctx: CommandContext, text: Rest) -> str:
        return f"echo: {text}"

    @command("contract private", help="Answers only the person who asked.")
    async def private(self, ctx: CommandContext, token: str) -> Reply:
        return Reply(f"for your eyes only: {token}", ephemeral=True)

    @command("contract fail", help="Fails unexpectedly.")
    async def fail(self, ctx: CommandContext) -> str:
        raise RuntimeError("kaboom: contract")

    @command("contract choose", help="Answers in the channel with buttons for the person who asked.")
    async def choose(self, ctx: CommandContext) -> Reply:
        options = [Option(PICK, "Apples", "apples", "primary"), Option(PICK, "Pears", "pears")]
        return Reply("Pick a fruit:", choices=self.core.choices.offer(ctx.author, options))

    async def picked(self, ctx: CommandContext, fruit: str) -> Reply:
        return Reply(f"you picked: {fruit}")

    @command("contract confide", help="Takes words that must not stay on show.", private_input=True)
    async def confide(self, ctx: CommandContext, text: Rest) -> Reply:
        if "refuse" in text:
            raise UserError("Sorry, I can't take that one.")
        return Reply("Thanks, passed to the moderators.", ephemeral=True)


class Surface(Protocol):
    """A platform as one member in one public channel sees it."""

    platform: str
    core: BotCore

    async def send(self, text: str) -> None:
        """Type a command in the public channel, as a member (not a moderator)."""

    async def send_direct(self, text: str) -> None:
        """Type a command in a direct message with the bot."""

    async def wait_private(self, needle: str) -> str:
        """The first text only the member saw that contains needle (waits for it)."""

    async def wait_public(self, needle: str) -> str:
        """The first text the channel saw that contains needle (waits for it)."""

    def public(self) -> list[str]: ...

    def private(self) -> list[str]: ...

    def refuse_removal(self) -> None:
        """The platform refuses to remove the next command message."""

    def removal_attempts(self) -> int: ...

    def trigger_gone(self) -> bool:
        """The last command message is no longer in the channel."""

    async def press(self, label: str, *, by_other: bool = False) -> None:
        """Press the button with this label under the bot's last reply with buttons (as the
        member who asked, or as someone else)."""

    async def wait_pressed(self, needle: str, *, by_other: bool = False) -> str:
        """The first answer to a press, seen only by whoever pressed, that contains needle."""

    def answers_in_public(self) -> list[str]:
        """Everything the channel saw (answers to presses must never be among it)."""


def _first(texts: list[str], needle: str) -> str | None:
    return next((t for t in texts if needle in t), None)


# -- the console ---------------------------------------------------------------------------


class _Transcript(io.StringIO):
    """The console's output, one entry per printed block."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []

    def write(self, s: str) -> int:
        self.blocks.append(s)
        return super().write(s)


class ConsoleSurface:
    # Console marks: a private reply is printed "(only you can see this)"; a direct message
    # "[private message]"; everything else is what #general shows.
    PRIVATE = ("(only you can see this)", "[private message]")
    platform = "console"

    def __init__(self, core: BotCore, adapter: ConsoleAdapter, out: _Transcript) -> None:
        self.core = core
        self.adapter = adapter
        self.out = out
        self.refused = 0

    async def send(self, text: str) -> None:
        await self.adapter.ask(text)

    async def send_direct(self, text: str) -> None:
        raise NotImplementedError("the console is always #general: it has no direct messages")

    def private(self) -> list[str]:
        return [b for b in self.out.blocks if b.startswith(self.PRIVATE)]

    def public(self) -> list[str]:
        return [b for b in self.out.blocks if not b.startswith(self.PRIVATE)]

    async def wait_private(self, needle: str) -> str:
        found = _first(self.private(), needle)  # ask() returns once everything is printed
        assert found is not None, f"{needle!r} not shown privately in {self.out.blocks}"
        return found

    async def wait_public(self, needle: str) -> str:
        found = _first(self.public(), needle)
        assert found is not None, f"{needle!r} not shown in #general in {self.out.blocks}"
        return found

    def refuse_removal(self) -> None:
        # A terminal never refuses, so the refusal is made where every platform's removal
        # ends: the adapter's Messenger.delete, here raising as a refusing platform does.
        async def refuse(channel: ChannelRef, message_id: str) -> None:
            self.refused += 1
            raise DeliveryError("console: removing messages is switched off", permanent=True)

        self.adapter.delete = refuse  # type: ignore[method-assign]

    def removal_attempts(self) -> int:
        return self.refused + sum("(a message was removed)" in b for b in self.out.blocks)

    def trigger_gone(self) -> bool:
        return any(b.startswith("[#general] (a message was removed)") for b in self.out.blocks)

    async def press(self, label: str, *, by_other: bool = False) -> None:
        raise NotImplementedError("a terminal has no buttons: the console lists them as words")

    async def wait_pressed(self, needle: str, *, by_other: bool = False) -> str:
        raise NotImplementedError

    def answers_in_public(self) -> list[str]:
        return self.public()


@contextlib.asynccontextmanager
async def console_surface(tmp_path: Path) -> AsyncIterator[ConsoleSurface]:
    h = await Harness.create(tmp_path, cog_modules=["cogs.help"])
    try:
        h.core.add_cog(ContractCog(h.core))
        out = _Transcript()
        yield ConsoleSurface(h.core, ConsoleAdapter(h.core, as_member=True, out=out), out)
    finally:
        await h.close()


# -- Discord -------------------------------------------------------------------------------


class DiscordSurface:
    platform = "discord"

    def __init__(self, env: Any) -> None:
        self.env = env
        self.fake = env.fake
        self.core: BotCore = env.harness.core
        self.last_id = ""
        self.pressed_by: dict[str, bool] = {}  # interaction id -> pressed by someone else

    async def send(self, text: str) -> None:
        msg = self.fake.message_payload(text, author=self.fake.member_user)
        self.fake.messages[int(msg["id"])] = msg  # so that it can be deleted
        self.last_id = msg["id"]
        await self.fake.push("MESSAGE_CREATE", msg)

    async def send_direct(self, text: str) -> None:
        self.fake.channels[DM_CHANNEL_ID] = {"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [self.fake.member_user]}
        msg = self.fake.message_payload(text, author=self.fake.member_user, channel_id=DM_CHANNEL_ID, guild=False)
        self.fake.messages[int(msg["id"])] = msg
        await self.fake.push("MESSAGE_CREATE", msg)

    def _posts(self, where: Callable[[int], bool]) -> list[str]:
        texts = []
        for call in self.fake.find_calls("POST", r"/channels/\d+/messages"):
            cid = int(call.path.split("/")[2])
            if call.status < 300 and where(cid):
                texts.append(call.json.get("content", "") + json.dumps(call.json.get("embeds", [])))
        return texts

    def public(self) -> list[str]:
        return self._posts(lambda cid: cid == CHANNEL_ID)

    def private(self) -> list[str]:
        return self._posts(lambda cid: self.fake.channels.get(cid, {}).get("type") == 1)

    async def wait_private(self, needle: str) -> str:
        found: str = await self.fake.wait_until(lambda: _first(self.private(), needle))
        return found

    async def wait_public(self, needle: str) -> str:
        found: str = await self.fake.wait_until(lambda: _first(self.public(), needle))
        return found

    def refuse_removal(self) -> None:
        # What Discord answers when the bot lacks Manage Messages.
        missing = {"message": "Missing Permissions", "code": 50013}
        self.fake.fail_next("DELETE", rf"/channels/{CHANNEL_ID}/messages/\d+", 403, missing)

    def removal_attempts(self) -> int:
        return len(self.fake.find_calls("DELETE", r"/channels/\d+/messages/\d+"))

    def trigger_gone(self) -> bool:
        return int(self.last_id) not in self.fake.messages

    async def press(self, label: str, *, by_other: bool = False) -> None:
        def with_buttons() -> Any:
            calls = self.fake.find_calls("POST", rf"/channels/{CHANNEL_ID}/messages")
            return next((c for c in reversed(calls) if c.json.get("components")), None)

        call = await self.fake.wait_until(with_buttons)
        custom_id = next(
            item["custom_id"]
            for row in call.json["components"]
            for item in row["components"]
            if item.get("label") == label
        )
        [message] = [m for m in self.fake.channel_messages(CHANNEL_ID) if m.get("content") == call.json.get("content")]
        by = self.fake.helper_user if by_other else self.fake.member_user
        payload = self.fake.interaction_payload({"custom_id": custom_id, "component_type": 2}, by=by, itype=3)
        payload["message"] = message
        self.pressed_by[payload["id"]] = by_other
        await self.fake.push("INTERACTION_CREATE", payload)

    async def wait_pressed(self, needle: str, *, by_other: bool = False) -> str:
        def found() -> str | None:
            for call in self.fake.find_calls("POST", r"/interactions/\d+/[^/]+/callback"):
                interaction_id = call.path.split("/")[2]
                data = call.json.get("data") or {}
                private = bool(data.get("flags", 0) & 64)
                if self.pressed_by.get(interaction_id) == by_other and private and needle in str(data.get("content")):
                    return str(data.get("content"))
            return None

        text: str = await self.fake.wait_until(found)
        return text

    def answers_in_public(self) -> list[str]:
        public = [
            str((c.json.get("data") or {}).get("content"))
            for c in self.fake.find_calls("POST", r"/interactions/\d+/[^/]+/callback")
            if not ((c.json.get("data") or {}).get("flags", 0) & 64)
        ]
        return self.public() + public


@contextlib.asynccontextmanager
async def discord_surface(tmp_path: Path) -> AsyncIterator[DiscordSurface]:
    async with discord_env(tmp_path) as env:
        env.harness.core.add_cog(ContractCog(env.harness.core))
        yield DiscordSurface(env)


# -- Slack ---------------------------------------------------------------------------------


class SlackSurface:
    platform = "slack"

    def __init__(self, r: Any) -> None:
        self.r = r
        self.fake = r.fake
        self.core: BotCore = r.core
        self._ts = itertools.count(1)

    async def send(self, text: str) -> None:
        ts = f"1790000100.{next(self._ts):06d}"
        await self.fake.push("events_api", message_event(text, user_id=MEMBER, ts=ts))

    async def send_direct(self, text: str) -> None:
        ts = f"1790000100.{next(self._ts):06d}"
        event = message_event(text, user_id=MEMBER, ts=ts, channel=f"D{MEMBER}", channel_type="im")
        await self.fake.push("events_api", event)

    def public(self) -> list[str]:
        return [str(c.args.get("text")) for c in self.fake.of("chat.postMessage") if c.args["channel"] == "C0GENERAL"]

    def private(self) -> list[str]:
        ephemeral = [c for c in self.fake.of("chat.postEphemeral") if c.args["user"] == MEMBER]
        direct = [c for c in self.fake.of("chat.postMessage") if str(c.args["channel"]).startswith("D")]
        return [str(c.args.get("text")) for c in ephemeral + direct]

    async def wait_private(self, needle: str) -> str:
        found: str = await self.fake.wait_until(lambda: _first(self.private(), needle))
        return found

    async def wait_public(self, needle: str) -> str:
        found: str = await self.fake.wait_until(lambda: _first(self.public(), needle))
        return found

    def refuse_removal(self) -> None:
        """Nothing to arrange: with a bot token Slack removes only the bot's own messages,
        and the fake answers chat.delete for anyone else's with cant_delete_message."""

    def removal_attempts(self) -> int:
        return len(self.fake.of("chat.delete"))

    def trigger_gone(self) -> bool:
        return False  # see refuse_removal

    async def press(self, label: str, *, by_other: bool = False) -> None:
        def with_buttons() -> Any:
            posts = [c for c in self.fake.of("chat.postMessage") if c.args["channel"] == "C0GENERAL"]
            return next((c for c in reversed(posts) if "sendbot_choice_" in str(c.args.get("blocks"))), None)

        call = await self.fake.wait_until(with_buttons)
        button = next(
            element
            for block in call.json_arg("blocks")
            for element in block.get("elements") or []
            if element.get("type") == "button" and element["text"]["text"] == label
        )
        user = ADMIN if by_other else MEMBER
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": "someone", "name": "someone", "team_id": TEAM_ID},
            "api_app_id": "A0SENDBOT",
            "token": "legacy-unused",
            "container": {"type": "message", "message_ts": call.args.get("ts", ""), "channel_id": "C0GENERAL"},
            "trigger_id": "1.2.3",
            "team": {"id": TEAM_ID, "domain": "forum"},
            "channel": {"id": "C0GENERAL", "name": "general"},
            "response_url": self.fake.response_url(),
            "actions": [{**button, "block_id": "b1", "action_ts": "1790000201.000001"}],
        }
        await self.fake.push("interactive", payload)

    async def wait_pressed(self, needle: str, *, by_other: bool = False) -> str:
        user = ADMIN if by_other else MEMBER

        def found() -> str | None:
            calls = [c for c in self.fake.of("chat.postEphemeral") if c.args["user"] == user]
            return _first([str(c.args.get("text")) for c in calls], needle)

        text: str = await self.fake.wait_until(found)
        return text

    def answers_in_public(self) -> list[str]:
        return self.public()


@contextlib.asynccontextmanager
async def slack_surface(tmp_path: Path) -> AsyncIterator[SlackSurface]:
    async with running(tmp_path, "socket") as r:
        r.core.add_cog(ContractCog(r.core))
        yield SlackSurface(r)


SURFACES: dict[str, Callable[[Path], contextlib.AbstractAsyncContextManager[Surface]]] = {
    "console": console_surface,
    "discord": discord_surface,
    "slack": slack_surface,
}


@pytest.fixture(params=sorted(SURFACES))
async def surface(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Surface]:
    async with SURFACES[request.param](tmp_path) as s:
        yield s


# -- the contract --------------------------------------------------------------------------


async def test_a_command_is_answered_where_it_was_asked(surface: Surface) -> None:
    await surface.send("!contract public hello there")
    assert "echo: hello there" in await surface.wait_public("echo:")


async def test_a_private_reply_reaches_the_author_and_never_the_channel(surface: Surface) -> None:
    await surface.send("!contract private k3ep-it-quiet")
    await surface.wait_private("k3ep-it-quiet")
    # Asked afterwards and answered: the private reply had every chance to leak by now.
    await surface.send("!contract public after")
    await surface.wait_public("echo: after")
    assert not [t for t in surface.public() if "k3ep-it-quiet" in t]


async def test_an_unexpected_error_gives_only_a_reference_that_is_in_the_log(
    surface: Surface, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        await surface.send("!contract fail")
        note = await surface.wait_private("something went wrong")
    ref = REF_RE.search(note)
    assert ref, note
    assert f"ref={ref.group(1)}" in caplog.text
    shown = surface.public() + surface.private()
    assert not [t for t in shown if "kaboom" in t or "Traceback" in t]
    assert not [t for t in surface.public() if "something went wrong" in t]


# Slack is not listed: with a bot token it may remove only the bot's own messages, so there
# the refusal below is the only case (and is checked on every platform).
@pytest.mark.parametrize("surface", ["console", "discord"], indirect=True)
async def test_a_private_command_message_is_removed_from_a_public_place(surface: Surface) -> None:
    await surface.send("!contract confide my son Sam's school")
    await surface.wait_private("passed to the moderators")
    assert surface.trigger_gone()
    assert surface.removal_attempts() == 1
    assert not [t for t in surface.private() if NOT_REMOVED in t]
    # Settled: nothing is left to retry at the next connect.
    assert await surface.core.pending_deletes.for_platform(surface.platform) == []


async def test_a_refused_removal_is_told_to_the_author_privately_and_logged_once(
    surface: Surface, caplog: pytest.LogCaptureFixture
) -> None:
    surface.refuse_removal()
    with caplog.at_level(logging.INFO, logger="bot.adapters"):
        await surface.send("!contract confide my son Sam's school")
        note = await surface.wait_private(NOT_REMOVED)
    assert surface.removal_attempts() == 1
    assert not surface.trigger_gone()
    # The answer first, then the note that the message is still up, and why.
    private = surface.private()
    assert _first(private, "passed to the moderators") is not None
    assert private.index(note) > private.index(_first(private, "passed to the moderators") or "")
    assert re.search(r"couldn't remove your message from the channel: \w", note)
    assert not [t for t in surface.public() if NOT_REMOVED in t or "Sam" in t]
    logged = [r for r in caplog.records if "could not remove a command message" in r.getMessage()]
    assert len(logged) == 1
    assert "Sam" not in caplog.text
    # A refusal is final: it is not retried at the next connect.
    assert await surface.core.pending_deletes.for_platform(surface.platform) == []


@pytest.mark.parametrize("surface", ["discord", "slack"], indirect=True)  # the console has no DMs
async def test_a_private_command_in_a_direct_message_is_left_alone(surface: Surface) -> None:
    await surface.send_direct("!contract confide my son Sam's school")
    await surface.wait_private("passed to the moderators")
    assert surface.removal_attempts() == 0  # already private: nothing to remove, nothing to apologise for
    assert not [t for t in surface.private() if NOT_REMOVED in t]
    assert not [t for t in surface.public() if "moderators" in t]


async def test_a_refused_private_command_gives_the_words_back_privately_before_the_message_goes(
    surface: Surface,
) -> None:
    """Nothing typed is lost: the author gets their own words back, only privately, with the
    reason; then the message is removed (where the platform allows it)."""
    await surface.send("!contract confide refuse: my son Sam's school")
    back = await surface.wait_private("Here is what you wrote")
    assert "Sam" in back and "refuse" in back
    await surface.wait_private("can't take that one")
    private = surface.private()
    assert private.index(back) < private.index(_first(private, "can't take that one") or "")
    assert surface.removal_attempts() == 1
    if surface.platform != "slack":  # Slack lets a bot token remove only its own messages
        assert surface.trigger_gone()
    assert not [t for t in surface.public() if "Sam" in t or "Here is what you wrote" in t]


async def test_an_accepted_private_command_does_not_echo_the_words(surface: Surface) -> None:
    await surface.send("!contract confide my son Sam's school")
    await surface.wait_private("passed to the moderators")
    assert not [t for t in surface.private() + surface.public() if "Sam" in t]


async def test_words_that_cannot_be_given_back_privately_are_left_up_never_posted(tmp_path: Path) -> None:
    """Discord with the member's DMs closed: no private way to hand the words back, so the
    message is not removed (that would lose them) and nothing quoting them goes public."""
    async with discord_surface(tmp_path) as surface:
        fake = surface.fake
        dms = rf"/channels/(?!{CHANNEL_ID})\d+/messages"
        for _ in range(3):
            fake.fail_next("POST", dms, 403, {"message": "Cannot send messages to this user", "code": 50007})
        await surface.send("!contract confide refuse: my son Sam's school")
        note = await surface.wait_public("left your message in the channel")
        assert "copy your words" in note
        await surface.wait_public("can't take that one")  # the reason: no words, so it may go public
        assert surface.removal_attempts() == 0 and not surface.trigger_gone()
        assert not [t for t in surface.public() if "Sam" in t or "Here is what you wrote" in t]
        # Settled: the message is not removed at the next connect either.
        assert await surface.core.pending_deletes.for_platform("discord") == []


# -- buttons (issue 14) --------------------------------------------------------------------


@pytest.mark.parametrize("surface", ["discord", "slack"], indirect=True)  # a terminal has no buttons
async def test_a_button_answers_only_the_person_who_asked_privately_and_once(surface: Surface) -> None:
    await surface.send("!contract choose")
    await surface.wait_public("Pick a fruit")
    # Someone else presses: told privately that the buttons are not theirs; nothing is chosen.
    await surface.press("Apples", by_other=True)
    await surface.wait_pressed("These buttons are for the person who asked", by_other=True)
    # The member presses: the core runs what the token was offered for, and answers privately.
    await surface.press("Apples")
    await surface.wait_pressed("you picked: apples")
    # The set is used up: the other button (or the same one again) does nothing more.
    await surface.press("Pears")
    await surface.wait_pressed("already used")
    assert not [t for t in surface.answers_in_public() if "you picked" in t or "These buttons" in t]


async def test_the_console_lists_buttons_as_words(tmp_path: Path) -> None:
    async with console_surface(tmp_path) as surface:
        await surface.send("!contract choose")
        shown = await surface.wait_public("Pick a fruit")
        assert "Buttons on Discord and Slack: [Apples]  [Pears]" in shown
