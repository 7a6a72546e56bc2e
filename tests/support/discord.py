"""Shared set-up for the Discord adapter tests: the real adapter and discord.py, a core with
the help cog plus a probe cog, and the loopback fake they talk to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.adapters.discord import DiscordAdapter
from bot.cog import Cog
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.model import Attachment, Card, CardField, Reply, ReportedMessage
from tests.support.fakes.discord_fake import GUILD_ID, FakeDiscord
from tests.support.harness import Harness

TOPICS = [("EHC plans", "ehcp"), ("Annual reviews", "annual-review"), ("Exclusions", "exclusion")]


class ProbeCog(Cog):
    """Commands shaped like the real cogs', to exercise every surface feature."""

    name = "probe"

    def __init__(self, core: Any) -> None:
        super().__init__(core)
        self.release_slow = asyncio.Event()
        self.slow_is_private = False
        self.reports: list[tuple[CommandContext, ReportedMessage]] = []

    @command(
        "topic",
        help="Look up a topic.",
        args_help={"topic": "what to look up, e.g. ehcp"},
        autocomplete={"topic": "complete_topic"},
    )
    async def topic(self, ctx: CommandContext, topic: str) -> Reply:
        return Reply(
            card=Card(
                title=f"Topic: {topic}",
                body="**Bold** body with a [link](https://example.org/a).",
                fields=(CardField("Where", "Here", inline=True), CardField("When", "Now")),
                url="https://example.org/topic",
                footer="Not legal advice.",
                colour=0x123456,
            )
        )

    async def complete_topic(self, partial: str) -> list[tuple[str, str]]:
        return [(label, value) for label, value in TOPICS if partial.lower() in (label + value).lower()]

    @command("probe add", help="Add a thing.", args_help={"count": "how many"})
    async def probe_add(
        self,
        ctx: CommandContext,
        name: str,
        count: int = 1,
        *,
        mode: Literal["fast", "slow"] = "fast",
        loud: bool = False,
    ) -> str:
        return f"added {name} x{count} mode={mode} loud={loud}"

    @command("probe note", help="Write a note.")
    async def probe_note(self, ctx: CommandContext, text: Rest) -> str:
        return f"noted: {text}"

    @command("purge", help="Moderators only.", moderator_only=True)
    async def purge(self, ctx: CommandContext) -> str:
        return "purged"

    @command("secret", help="A private answer.")
    async def secret(self, ctx: CommandContext) -> Reply:
        return Reply("only you can see this", ephemeral=True)

    @command("shout", help="Echo hostile text.")
    async def shout(self, ctx: CommandContext, text: Rest) -> str:
        return text

    @command("ics", help="A calendar file.")
    async def ics(self, ctx: CommandContext) -> Reply:
        return Reply(
            "Your dates", files=(Attachment("dates.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),)
        )

    @command("tidy", help="Deletes the command message.")
    async def tidy(self, ctx: CommandContext, text: Rest = "") -> Reply:  # type: ignore[assignment]
        ctx.delete_trigger = True
        return Reply("Thanks, passed to the moderators.", ephemeral=True)

    @command("slow", help="Takes a while.")
    async def slow(self, ctx: CommandContext) -> Reply:
        await asyncio.wait_for(self.release_slow.wait(), 10)
        return Reply("finally", ephemeral=self.slow_is_private)

    @command("whereami", help="Where the bot thinks you are.")
    async def whereami(self, ctx: CommandContext) -> str:
        p, a = ctx.place, ctx.author
        where = f"scope={p.scope_id} channel={p.id} direct={p.is_direct}"
        return f"{where} user={a.id} mod={a.is_moderator} via={ctx.incoming.surface}"

    @command("boom", help="Fails unexpectedly.")
    async def boom(self, ctx: CommandContext) -> str:
        raise RuntimeError("kaboom")

    async def report(self, ctx: CommandContext, *, message: ReportedMessage) -> Reply:
        self.reports.append((ctx, message))
        return Reply("Thank you: the moderators will look at it.")


@dataclass
class DiscordEnv:
    fake: FakeDiscord
    harness: Harness
    adapter: DiscordAdapter
    probe: ProbeCog
    task: asyncio.Task[None]
    extra: dict[str, Any] = field(default_factory=dict)

    def bot_messages(self) -> list[Any]:
        """Every REST call that creates or edits a message, as (call)."""
        return [
            c
            for c in self.fake.calls
            if (c.method == "POST" and c.path.endswith("/messages"))
            or (c.method == "PATCH" and "/messages/" in c.path)
            or c.path.endswith("/callback")
            or (c.method == "POST" and c.path.startswith("/webhooks/"))
        ]


async def until_identified(env: DiscordEnv, count: int = 1) -> None:
    """Wait for the count-th READY, failing at once (with its error) if the adapter dies."""
    ready = asyncio.ensure_future(env.fake.wait_identified(count))
    done, _ = await asyncio.wait([ready, env.task], timeout=15, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if env.task.done():
            env.task.result()  # raises the adapter's error
        raise TimeoutError("the adapter never identified")
    ready.result()


@contextlib.asynccontextmanager
async def discord_env(
    tmp_path: Path,
    *,
    discord: dict[str, Any] | None = None,
    grant_message_content: bool = True,
    wait_ready: bool = True,
    before_start: Callable[[FakeDiscord], None] | None = None,
    cog_modules: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> AsyncIterator[DiscordEnv]:
    """cog_modules: real cogs to load instead of the probe's own "report_message" action
    (the probe cog is always added; its commands do not clash with the real ones)."""
    fake = await FakeDiscord.start(grant_message_content=grant_message_content)
    if before_start is not None:
        before_start(fake)
    cfg = {
        "token": "test-token",
        "api_base_url": fake.api_base_url,
        "gateway_url": fake.gateway_url,
        "guild_ids": [GUILD_ID],
        "moderator_roles": ["forum helpers"],
        **(discord or {}),
    }
    h = await Harness.create(tmp_path, {**(config or {}), "discord": cfg}, cog_modules=cog_modules or ["cogs.help"])
    probe = ProbeCog(h.core)
    h.core.add_cog(probe)
    if cog_modules is None:
        h.core.dispatcher.register_action("report_message", probe.report)
    adapter = DiscordAdapter(h.core)
    task = asyncio.create_task(adapter.run(), name="discord-adapter")
    env = DiscordEnv(fake, h, adapter, probe, task)
    try:
        if wait_ready:
            await until_identified(env)
        yield env
    finally:
        await adapter.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await fake.close()
        await h.close()
