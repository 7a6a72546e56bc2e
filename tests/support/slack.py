"""Shared set-up for the Slack adapter tests: a probe cog and a running adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.adapters.slack import SlackAdapter
from bot.cog import Cog
from bot.commands import Rest, command
from bot.config import parse
from bot.context import CommandContext
from bot.core import BotCore
from bot.markup import escape
from bot.model import Attachment, Card, CardField, Reply, ReportedMessage
from tests.support.fakes.slack_fake import SlackFake, user

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MEMBER = "UMEMBER01"
ADMIN = "UADMIN001"
GROUP_MOD = "UGROUPMOD"
LISTED_MOD = "ULISTED01"
MOD_GROUP = "S0MODS001"
HOSTILE = "<!everyone> <!channel> <!here> <@U0VICTIM> & <https://evil.example|click>"


class ProbeCog(Cog):
    """Commands shaped like the real cogs' replies, for exercising the adapter."""

    name = "probe"

    def __init__(self, core: BotCore) -> None:
        super().__init__(core)
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.seen: list[CommandContext] = []

    @command("slow", help="Waits until the test releases it.")
    async def slow(self, ctx: CommandContext) -> str:
        self.started.set()
        await self.release.wait()
        return "done waiting"

    @command("purge", help="Moderators only.", moderator_only=True)
    async def purge(self, ctx: CommandContext) -> str:
        return "purged"

    @command("whisper", help="An ephemeral answer.")
    async def whisper(self, ctx: CommandContext) -> Reply:
        self.seen.append(ctx)
        return Reply("only for you", ephemeral=True)

    @command("rights", help="A card, like the rights cog's.")
    async def rights(self, ctx: CommandContext, topic: str = "ehcp") -> Reply:
        self.seen.append(ctx)
        return Reply(
            card=Card(
                title=f"Your rights: {topic}",
                body="**Bold** words and a [source](https://www.legislation.gov.uk/ukpga/2014/6).",
                fields=(CardField("Who", "Parents", inline=True), CardField("When", "Any time", inline=True)),
                url="https://www.legislation.gov.uk/ukpga/2014/6",
                footer="Not legal advice.",
            )
        )

    @command("feedcard", help="A card built from hostile feed text, escaped as cogs must.")
    async def feedcard(self, ctx: CommandContext) -> Reply:
        return Reply(card=Card(title=HOSTILE, body=escape(HOSTILE), footer=escape(HOSTILE)))

    @command("report", help="Files a report; asks for the command message to go.")
    async def report(self, ctx: CommandContext, text: Rest) -> Reply:
        self.seen.append(ctx)
        ctx.delete_trigger = True
        return Reply("Thanks, the moderators will look at it.", ephemeral=True)

    @command("privatefile", help="Sends a file privately.")
    async def privatefile(self, ctx: CommandContext) -> Reply:
        return Reply("Here is your file", ephemeral=True, files=(Attachment("mine.ics", b"BEGIN:VCALENDAR\r\n"),))

    @command("calendar", help="Sends a file.")
    async def calendar(self, ctx: CommandContext) -> Reply:
        return Reply(
            "Your dates", files=(Attachment("dates.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),)
        )


@dataclass
class Running:
    core: BotCore
    adapter: SlackAdapter
    probe: ProbeCog
    fake: SlackFake
    reports: list[tuple[Any, ReportedMessage]] = field(default_factory=list)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.http_port}/slack/events"


def config(tmp_path: Path, fake: SlackFake, mode: str, extra: dict[str, Any] | None = None, **slack: Any) -> Any:
    return parse(
        {
            **(extra or {}),
            "storage": {"path": str(tmp_path / "bot.sqlite3")},
            "feeds": {"enabled": False},
            "slack": {
                "bot_token": fake.bot_token,
                "app_token": fake.app_token,
                "signing_secret": SECRET,
                "mode": mode,
                "http_port": 0,
                "api_base_url": fake.base_url,
                "moderator_user_ids": [LISTED_MOD],
                "moderator_usergroup": MOD_GROUP,
                **slack,
            },
        },
        environ={},
    )


def populate(fake: SlackFake) -> None:
    fake.users.update(
        {
            MEMBER: user(MEMBER, "Parent"),
            ADMIN: user(ADMIN, "Admin", admin=True),
            GROUP_MOD: user(GROUP_MOD, "Group Mod"),
            LISTED_MOD: user(LISTED_MOD, "Listed Mod"),
        }
    )
    fake.usergroups[MOD_GROUP] = [GROUP_MOD]


@asynccontextmanager
async def running(
    tmp_path: Path,
    mode: str,
    *,
    adapter_kw: dict[str, Any] | None = None,
    cog_modules: list[str] | None = None,
    extra_config: dict[str, Any] | None = None,
    **slack: Any,
) -> AsyncIterator[Running]:
    """With cog_modules, those real cogs run instead of the probe cog and its report action."""
    fake = await SlackFake().start()
    populate(fake)
    cfg = config(tmp_path, fake, mode, extra_config, **slack)
    core = await BotCore.create(cfg, cog_modules=cog_modules or ["cogs.help"])
    probe = ProbeCog(core)
    state = Running(core, None, probe, fake)  # type: ignore[arg-type]

    async def report_action(ctx: CommandContext, *, message: ReportedMessage) -> Reply:
        state.reports.append((ctx, message))
        return Reply("Thank you: the moderators have been told.", ephemeral=True)

    if cog_modules is None:
        core.add_cog(probe)
        core.dispatcher.register_action("report_message", report_action)
    adapter = SlackAdapter(core, **({"post_interval": 0.0} | (adapter_kw or {})))
    state.adapter = adapter
    await core.start()
    task = asyncio.create_task(adapter.run())
    ready = asyncio.create_task(adapter.ready.wait())
    try:
        done, _ = await asyncio.wait([task, ready], timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert ready in done, f"adapter did not start: {task.exception() if task.done() else 'timeout'}"
        yield state
    finally:
        ready.cancel()
        await adapter.close()
        await asyncio.wait_for(task, 10)
        await core.stop()
        await fake.close()
