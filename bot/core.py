"""The running bot without any platform: config, storage, cogs, dispatcher, messengers."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.cog import Cog
from bot.config import Config
from bot.dispatcher import Dispatcher
from bot.messenger import DeliveryError, Messenger
from bot.model import ChannelRef, Reply
from storage.audit import AuditLog
from storage.db import Database

log = logging.getLogger(__name__)


class BotCore:
    def __init__(self, config: Config, db: Database, *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        # Set by `sendbot run` (platform adapters, or an interactive console): cogs start
        # background loops (feed polling, report retention) only then, so `sendbot ask`, a
        # scripted console and tests never poll the network by surprise.
        self.serving = False
        self.db = db
        self.audit = AuditLog(db)
        self.dispatcher = Dispatcher(self)
        self.messengers: dict[str, Messenger] = {}
        self.cogs: dict[str, Cog] = {}
        self.tz = ZoneInfo(config.bot.timezone)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False

    @classmethod
    async def create(
        cls,
        config: Config,
        *,
        cog_modules: Iterable[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        db: Database | None = None,
    ) -> BotCore:
        """Open the database (applying migrations) and load the cogs."""
        if db is None:
            db = await Database.open(config.storage.path)
        core = cls(config, db, clock=clock)
        try:
            core.load_cogs(cog_modules)
        except BaseException:
            # A cog that fails to load (e.g. invalid content) must not leave the database's
            # worker thread running, or the process never exits.
            await db.close()
            raise
        return core

    # -- time ------------------------------------------------------------------------

    def now(self) -> datetime:
        """The current time, aware, in UTC (tests pass a fixed clock)."""
        return self._clock()

    def today(self) -> date:
        """Today's date where the forum is (Europe/London by default)."""
        return self.now().astimezone(self.tz).date()

    # -- cogs and messengers ---------------------------------------------------------

    @property
    def prefix(self) -> str:
        return self.config.bot.prefix

    def load_cogs(self, modules: Iterable[str] | None = None) -> None:
        if modules is None:
            from cogs import COG_MODULES

            modules = COG_MODULES
        for name in modules:
            module = importlib.import_module(name)
            self.add_cog(module.setup(self))

    def add_cog(self, cog: Cog) -> None:
        if cog.name in self.cogs:
            raise ValueError(f"duplicate cog {cog.name!r}")
        self.dispatcher.register(cog.commands())
        self.cogs[cog.name] = cog

    def register_messenger(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None) -> str:
        messenger = self.messengers.get(channel.platform)
        if messenger is None:
            raise DeliveryError(f"no {channel.platform} adapter is running", permanent=False)
        return await messenger.post(channel, reply, nonce=nonce)

    # -- lifecycle -------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task that is cancelled at stop and whose crash is logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        for cog in self.cogs.values():
            await cog.on_start()

    async def stop(self) -> None:
        for cog in reversed(list(self.cogs.values())):
            try:
                await cog.on_stop()
            except Exception:
                log.exception("cog %s failed to stop cleanly", cog.name)
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.db.close()
