"""A test harness that runs commands through the real dispatcher, cogs and storage (a SQLite
file, or PostgreSQL where a test runs on both backends).

    h = await Harness.create(tmp_path)
    replies = await h.say("!rights ehcp")

Outbound messages (feed posts, moderator notices) are recorded by a RecordingMessenger
registered for each platform name the test uses.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import DEFAULT_COGS, Config, parse
from bot.core import BotCore
from bot.dispatcher import Outcome
from bot.markup import to_plain
from bot.model import Actor, ChannelRef, Incoming, Place, Reply, Surface

# The [storage] section a harness gets when its test does not name one: set per test by the
# tests that run on both backends (tests/support/backends.py, `each_backend`); else SQLite.
BACKEND_STORAGE: dict[str, Any] | None = None


@dataclass
class Sent:
    kind: str  # post | edit | delete | direct | followup
    channel: ChannelRef | None
    reply: Reply | None
    message_id: str
    nonce: str | None = None
    user_id: str | None = None


@dataclass
class RecordingMessenger:
    platform: str
    can_edit: bool = True
    sent: list[Sent] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)  # raised by the next sends
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _next(self) -> str:
        return f"{self.platform}-m{next(self._ids)}"

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        mid = self._next()
        # A command's follow-up message (`!feeds add`'s report of its first fetch) is an
        # answer, not a feed post: recorded as such, so counts of posts stay counts of posts.
        task = asyncio.current_task()
        kind = "followup" if task is not None and task.get_name().startswith("followup:") else "post"
        self.sent.append(Sent(kind, channel, reply, mid, nonce=nonce))
        return mid

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append(Sent("edit", channel, reply, message_id))

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        self.sent.append(Sent("delete", channel, None, message_id))

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        mid = self._next()
        self.sent.append(Sent("direct", None, reply, mid, user_id=user_id))
        return mid

    def posts(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "post"]


def reply_text(reply: Reply) -> str:
    """All the visible text of a reply, plain, for assertions."""
    parts = [reply.text]
    if reply.card:
        c = reply.card
        parts += [c.title, c.body, *(f"{f.name}\n{f.value}" for f in c.fields), c.url or "", c.footer or ""]
    return to_plain("\n".join(p for p in parts if p))


class FixedClock:
    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.value += timedelta(**kwargs)


class Harness:
    def __init__(self, core: BotCore, clock: FixedClock) -> None:
        self.core = core
        self.clock = clock
        self.messengers: dict[str, RecordingMessenger] = {}
        self.followups: list[Reply] = []
        self._ids = itertools.count(1)
        for platform in ("console", "discord", "slack"):
            m = RecordingMessenger(platform)
            self.messengers[platform] = m
            core.register_messenger(m)

    @classmethod
    async def create(
        cls,
        tmp_path: Path,
        config: dict[str, Any] | None = None,
        *,
        cog_modules: Iterable[str] | None = None,
        now: datetime = datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        start: bool = True,
    ) -> Harness:
        data = dict(config or {})
        data.setdefault("storage", dict(BACKEND_STORAGE or {"path": str(tmp_path / "test.sqlite3")}))
        data.setdefault("console", {"attachments_dir": str(tmp_path / "attachments")})
        bot = data.get("bot")
        if "cogs.feeds" in (bot.get("cogs", DEFAULT_COGS) if isinstance(bot, dict) else DEFAULT_COGS):
            # A section for a cog not listed is a config error, so only when it runs.
            data.setdefault("feeds", {}).setdefault("enabled", False)
        cfg: Config = parse(data, environ={})
        clock = FixedClock(now)
        core = await BotCore.create(cfg, cog_modules=cog_modules, clock=clock)
        h = cls(core, clock)
        if start:
            await core.start()
        return h

    async def close(self) -> None:
        await self.core.stop()

    def storage_toml(self) -> str:
        """The [storage] section of a config file naming this harness's database (for the CLI)."""
        storage = self.core.config.storage
        key, value = ("url", storage.url) if storage.url else ("path", storage.path)
        return f'[storage]\n{key} = "{value}"\n'

    def incoming(
        self,
        text: str,
        *,
        moderator: bool = False,
        user_id: str = "u1",
        name: str = "Parent",
        platform: str = "console",
        scope: str = "console",
        channel: str = "general",
        direct: bool = False,
        surface: Surface = "prefix",
    ) -> Incoming:
        return Incoming(
            text=text,
            author=Actor(platform, user_id, name, is_moderator=moderator),
            place=Place(platform, scope, channel, channel, is_direct=direct),
            message_id=f"in{next(self._ids)}",
            surface=surface,
        )

    async def outcome(self, text: str, **kw: Any) -> Outcome:
        incoming = self.incoming(text, **kw)
        result = await self.core.dispatcher.handle(incoming)
        assert result is not None, f"{text!r} was not treated as a command"
        before = {p: len(m.sent) for p, m in self.messengers.items()}
        await result.delivered()  # as an adapter does once the replies are sent
        await self.settle()
        # Messages a command's follow-up work posted where it was typed (`!feeds add`'s
        # report of its first fetch): what the person sees next, after the answer.
        where = incoming.place.ref
        self.followups = [
            s.reply
            for p, m in self.messengers.items()
            for s in m.sent[before[p] :]
            if s.kind == "followup" and s.reply is not None and s.channel == where
        ]
        return result

    async def settle(self) -> None:
        """Wait for the follow-up work commands started (tasks named "followup:...")."""
        me = asyncio.current_task()
        while tasks := [t for t in asyncio.all_tasks() if t.get_name().startswith("followup:") and t is not me]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def say(self, text: str, **kw: Any) -> list[Reply]:
        return (await self.outcome(text, **kw)).replies

    async def say_text(self, text: str, **kw: Any) -> str:
        """The answer's text and then any follow-up message's, as the person reads them."""
        replies = (await self.outcome(text, **kw)).replies
        return "\n".join(reply_text(r) for r in [*replies, *self.followups])

    def sent(self, platform: str = "console", where: Callable[[Sent], bool] | None = None) -> list[Sent]:
        items = self.messengers[platform].sent
        return [s for s in items if where is None or where(s)]
