"""The running bot without any platform: config, storage, cogs, dispatcher, messengers."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.choices import Choices
from bot.cog import Cog
from bot.config import Config
from bot.dispatcher import Dispatcher
from bot.forum_settings import ForumSettings, core_settings
from bot.messenger import DeliveryError, Messenger
from bot.metrics import Metrics
from bot.model import ChannelRef, Reply
from bot.supervisor import LoopStatus, run_supervised
from storage.audit import AuditLog
from storage.claims import release_orphans
from storage.handle import Database
from storage.leases import Leases, new_instance_id
from storage.open import open_database
from storage.pending_deletes import PendingDeletes
from storage.state import BotState

log = logging.getLogger(__name__)


class BotCore:
    def __init__(self, config: Config, db: Database, *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        # Set by `sendbot run` (platform adapters, or an interactive console): cogs start
        # background loops (feed polling, report retention) only then, so `sendbot ask`, a
        # scripted console and tests never poll the network by surprise.
        self.serving = False
        self.stopping = False  # set when stop_work begins: paced sends not yet made give up
        self.db = db
        self.audit = AuditLog(db)
        self.pending_deletes = PendingDeletes(db)
        self.state = BotState(db)  # what the bot remembers about itself (Discord's command hash)
        # This process among several on one database (issue 15): names its claims and leases.
        self.instance = new_instance_id()
        self.leases = Leases(db, self.instance, lambda: self._clock())
        # Each forum's own settings (`!settings`), over the config's values (bot/forum_settings.py).
        self.forum_settings = ForumSettings(db)
        for definition in core_settings(config):
            self.forum_settings.define(definition)
        self.dispatcher = Dispatcher(self)
        self.messengers: dict[str, Messenger] = {}
        self.cogs: dict[str, Cog] = {}
        self.tz = ZoneInfo(config.bot.timezone)
        self._clock = clock or (lambda: datetime.now(UTC))
        # Buttons waiting to be pressed (bot/choices.py): in memory, so a restart cancels them.
        self.choices = Choices(lambda: self._clock())
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        # Supervised background loops by name (feed poller, report maintenance): their state.
        self.loops: dict[str, LoopStatus] = {}
        # Counters for /metrics (bot/metrics.py), and which platforms are connected now (for
        # /healthz): set by platform_ready, cleared by platform_lost.
        self.metrics = Metrics()
        self.connected: dict[str, bool] = {}

    @classmethod
    async def create(
        cls,
        config: Config,
        *,
        cog_modules: Iterable[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        db: Database | None = None,
        exclusive: bool = False,
    ) -> BotCore:
        """Open the database (applying migrations) and load the cogs. `exclusive` (the running
        bot) also takes the lock that keeps a second bot off the same database."""
        if db is None:
            db = await open_database(config.storage, exclusive=exclusive)
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

    async def tz_for(self, platform: str, scope_id: str) -> ZoneInfo:
        """A forum's time zone: its own (`!settings set timezone`), else `[bot] timezone`."""
        return await self.forum_settings.tz(platform, scope_id, self.tz)

    async def today_for(self, platform: str, scope_id: str) -> date:
        """Today's date where this forum is (its `!settings` time zone, else `[bot] timezone`)."""
        return self.now().astimezone(await self.tz_for(platform, scope_id)).date()

    def today(self) -> date:
        """Today's date where the forum is (Europe/London by default)."""
        return self.now().astimezone(self.tz).date()

    # -- cogs and messengers ---------------------------------------------------------

    @property
    def prefix(self) -> str:
        return self.config.bot.prefix

    def load_cogs(self, modules: Iterable[str] | None = None) -> None:
        """Load the cogs named in `[bot] cogs` (or `modules`): the core knows none by name."""
        for name in self.config.bot.cogs if modules is None else modules:
            try:
                module = importlib.import_module(name)
            except ImportError as e:
                raise SystemExit(f"sendbot: [bot] cogs: cannot load {name!r} ({e})") from None
            if not callable(getattr(module, "setup", None)):
                raise SystemExit(f"sendbot: [bot] cogs: {name!r} has no setup(core) function") from None
            self.add_cog(module.setup(self))

    def add_cog(self, cog: Cog) -> None:
        if cog.name in self.cogs:
            raise ValueError(f"duplicate cog {cog.name!r}")
        self.dispatcher.register(cog.commands())
        self.cogs[cog.name] = cog

    def register_messenger(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        messenger = self.messengers.get(channel.platform)
        if messenger is None:
            raise DeliveryError(f"no {channel.platform} adapter is running", permanent=False)
        return await messenger.post(channel, reply, nonce=nonce, unsure=unsure)

    async def trigger_deleted(
        self, platform: str, channel: str, message_id: str, error: DeliveryError | None = None
    ) -> None:
        """An adapter tried to remove a private command's message: forget the pending delete
        if it is gone or never can be (a permission refusal); keep it for a passing failure."""
        try:
            if error is None or error.permanent:
                await self.pending_deletes.done(platform, channel, message_id)
            else:
                await self.pending_deletes.failed(platform, channel, message_id, str(error))
        except Exception:
            log.exception("could not record the removal of a command message")

    async def retry_pending_deletes(self, platform: str) -> int:
        """Remove the private command messages a crash left up (see storage/pending_deletes.py)."""
        messenger = self.messengers.get(platform)
        if messenger is None:
            return 0
        removed = 0
        for p in await self.pending_deletes.for_platform(platform):
            try:
                await messenger.delete(ChannelRef(p.platform, p.scope_id, p.channel_id), p.message_id)
            except DeliveryError as e:
                if e.permanent:
                    await self.pending_deletes.done(p.platform, p.channel_id, p.message_id)
                else:
                    await self.pending_deletes.failed(p.platform, p.channel_id, p.message_id, str(e))
                continue
            except Exception as e:
                await self.pending_deletes.failed(p.platform, p.channel_id, p.message_id, type(e).__name__)
                continue
            await self.pending_deletes.done(p.platform, p.channel_id, p.message_id)
            removed += 1
        if removed:
            log.info("%s: removed %d command message(s) left up by an interrupted run", platform, removed)
        return removed

    # -- lifecycle -------------------------------------------------------------------

    def platform_lost(self, platform: str) -> None:
        """An adapter lost its connection (it reconnects by itself); /healthz says so meanwhile."""
        self.connected[platform] = False

    def platform_resumed(self, platform: str) -> None:
        """The connection came back with its session intact: nothing to retry."""
        self.connected[platform] = True

    def platform_ready(self, platform: str) -> None:
        """Adapters call this once connected; each cog's on_platform_ready runs in the background."""
        self.connected[platform] = True

        async def notify() -> None:
            await self.retry_pending_deletes(platform)
            for cog in self.cogs.values():
                try:
                    await cog.on_platform_ready(platform)
                except Exception:
                    log.exception("cog %s: on_platform_ready(%s) failed", cog.name, platform)

        self.spawn(notify(), name=f"platform-ready-{platform}")

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task that is cancelled at stop and whose crash is logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def supervise(self, factory: Callable[[], Coroutine[Any, Any, Any]], name: str) -> asyncio.Task[Any]:
        """Start a background loop that is restarted (after a growing pause) whenever it
        crashes; `self.loops[name]` says how it is doing. Cancelled at stop, like `spawn`."""
        status = self.loops[name] = LoopStatus(name, "running", self.now())
        return self.spawn(run_supervised(status, factory, self.now), name=name)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        # SQLite, this process holding the one-bot lock: claims and leases left by an earlier
        # process are released now rather than waited out (storage/claims.py).
        if released := await release_orphans(self.db):
            log.info("released %d claim(s) and lease(s) left by the previous run", released)
        for cog in self.cogs.values():
            await cog.on_start()

    async def stop_work(self) -> None:
        """Stop background work (cogs' loops, spawned tasks); the database stays open."""
        self.stopping = True
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

    async def close(self) -> None:
        """Close the database (after stop_work, and after the adapters are closed)."""
        await self.db.close()

    async def stop(self) -> None:
        await self.stop_work()
        await self.close()
