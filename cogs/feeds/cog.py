"""!feeds: moderators subscribe channels to news feeds; the pipeline posts new items.

Every command acts on the subscriptions of the server (or Slack workspace) it is typed
in, and ids are subscription ids, so one forum can never see or change another's. The
background poller runs only under `sendbot run` (core.serving) with [feeds] enabled.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import tzinfo

from bot.cog import Cog
from bot.commands import Rest, command, to_int
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UsageError, UserError
from bot.markup import clean_text, escape
from bot.model import Card, CardField, ChannelRef, Reply
from cogs.feeds.adding import FOLLOWUP as FOLLOWUP
from cogs.feeds.adding import MAX_LATEST as MAX_LATEST
from cogs.feeds.opml_commands import OpmlMixin
from cogs.feeds.words import channel_label as channel_label
from cogs.feeds.words import clip as _clip
from feeds.channels import channel_of
from feeds.filters import KeywordFilter, for_subscription, parse_keywords
from feeds.model import FetchError
from feeds.preview import preview_lines
from feeds.render import when
from feeds.schedule import describe
from feeds.service import FeedService
from feeds.settings import FeedsSettings
from feeds.urls import check_url
from storage.feeds import Feed, Subscription, from_iso

log = logging.getLogger(__name__)

POLLER = "feeds-poller"  # the supervised loop's name (core.loops)
FOLLOWUP_GRACE = 35.0  # seconds a stop waits for follow-ups (a fetch's total timeout is 30)


_ID_HELP = {"id": "the subscription's id, from `!feeds list`"}


class FeedsCog(OpmlMixin, Cog):
    name = "feeds"
    description = "News feeds (Special Needs Jungle, GOV.UK) posted to channels."

    def __init__(self, core: BotCore) -> None:
        super().__init__(core)
        self.settings = core.config.section(FeedsSettings)
        self.service = FeedService(core)
        self._task: asyncio.Task[None] | None = None
        self.first_fetches: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------------------

    async def on_start(self) -> None:
        await self.sync_config_subscriptions()
        if self.core.serving and self.settings.enabled:
            self._task = self.core.supervise(self.service.run_forever, name=POLLER)
            status = self.core.loops[POLLER]
            self.service.on_cycle_done = lambda at: setattr(status, "last_success", at)
            log.info("feed poller started")

    async def on_platform_ready(self, platform: str) -> None:
        if self._task is not None:
            await self.service.platform_ready(platform)

    async def on_stop(self) -> None:
        # A `!feeds add` still checking its feed finishes and reports (bounded), so the
        # console's last command is answered in full before the bot exits.
        if self.first_fetches:
            await asyncio.wait(set(self.first_fetches), timeout=FOLLOWUP_GRACE)
        # Graceful: no new fetch or send, the send in progress finishes (bounded), and only
        # then do the adapters close (bot/app.py keeps them open until every cog has stopped).
        if self._task is not None:
            await self.service.stop(self._task)
            self._task = None
        await self.service.close()

    async def sync_config_subscriptions(self) -> None:
        """Create or update [[feeds.subscriptions]]; drop config ones no longer listed."""
        store = self.service.store
        now = self.core.now()
        wanted: set[int] = set()
        for sc in self.settings.subscriptions:
            sub, _ = await store.subscribe(
                sc.url,
                ChannelRef(sc.platform, sc.scope, sc.channel),
                now,
                name=sc.name,
                include=parse_keywords(sc.include),
                exclude=parse_keywords(sc.exclude),
                latest=sc.latest,
                mention_role=sc.mention_role,
                interval_minutes=sc.interval_minutes,
                source="config",
                timing=sc.timing(),
            )
            wanted.add(sub.id)
        for sub in await store.subscriptions():
            if sub.source == "config" and sub.id not in wanted:
                await store.remove_subscription(sub.id)

    def _poke(self) -> None:
        """Let the background loop act now (a new subscription, a resumed feed)."""
        self.service.wake.set()

    async def _own(self, ctx: CommandContext, sub_id: int) -> tuple[Subscription, Feed]:
        sub = await self.service.store.subscription(sub_id)
        place = ctx.place
        if sub is None or (sub.platform, sub.scope_id) != (place.platform, place.scope_id):
            raise UserError(f"There is no feed subscription {sub_id} here. `{ctx.prefix}feeds list` shows the ids.")
        feed = await self.service.store.feed(sub.feed_id)
        assert feed is not None
        return sub, feed

    # -- commands ------------------------------------------------------------------------

    @command(
        "feeds",
        help="Feeds posted to channels: list, add, set, remove, preview, pause, resume, status, export, import.",
        moderator_only=True,
        examples=("!feeds list", "!feeds status"),
    )
    async def feeds(self, ctx: CommandContext, what: Rest = "") -> Reply:  # type: ignore[assignment]
        p = ctx.prefix
        names = ", ".join(f"`{p}{s.name}`" for s in self.core.dispatcher.subcommands("feeds"))
        lead = f"I don't know `{p}feeds {_clip(what.split()[0], 20)}`. " if what.strip() else ""
        return Reply(f"{lead}Feed commands: {names}. More: `{p}help feeds`.", ephemeral=True)

    @command("feeds list", help="The feeds this server subscribes to, with their ids.", moderator_only=True)
    async def feeds_list(self, ctx: CommandContext) -> Reply:
        store = self.service.store
        subs = await store.subscriptions(platform=ctx.place.platform, scope_id=ctx.place.scope_id)
        if not subs:
            return Reply(f"No feeds yet. Add one with `{ctx.prefix}feeds add <url>`.", ephemeral=True)
        feeds = {f.id: f for f in await store.feeds(ids={s.feed_id for s in subs})}
        lines = []
        for s in subs:
            f = feeds[s.feed_id]
            state = " (paused)" if s.paused or f.paused else ""
            flt = for_subscription(s).describe()
            extra = f"; {escape(flt)}" if s.include or s.exclude else ""
            if (how := describe(s)) != "each post":
                extra += f"; {escape(how)}"
            lines.append(
                f"`{s.id}` **{escape(_clip(f.display_name, 60))}**{state} → {channel_label(channel_of(s))}{extra}\n"
                f"    {escape(f.url)}"
            )
        return Reply(card=Card(title="Feed subscriptions", body="\n".join(lines)), ephemeral=True)

    @command(
        "feeds remove",
        help="Stop posting a feed here: `!feeds remove <id>` (ids from `!feeds list`).",
        moderator_only=True,
        aliases=("feeds delete",),
        args_help=_ID_HELP,
    )
    async def feeds_remove(self, ctx: CommandContext, id: int) -> Reply:
        sub, feed = await self._own(ctx, id)
        await self.service.store.remove_subscription(sub.id)
        await self.core.audit.record(ctx.author, ctx.place.scope_id, "feeds.remove", str(sub.id), feed.url)
        note = ""
        if sub.source == "config":
            note = " It is also in the config file, so it comes back at the next start unless removed there."
        return Reply(f"Removed **{escape(_clip(feed.display_name))}** from {channel_label(channel_of(sub))}.{note}")

    @command(
        "feeds preview",
        help="Show a feed's latest items through the filters, posting nothing: `!feeds preview <url or id>`.",
        moderator_only=True,
        args_help={"target": "a feed address, or a subscription id from `!feeds list`"},
    )
    async def feeds_preview(self, ctx: CommandContext, target: str, *, include: str = "", exclude: str = "") -> Reply:
        target = target.strip().strip("<>")
        feed: Feed | None = None
        if re.fullmatch(r"#?\d+", target):
            # A subscription id, checked like any int argument: a huge one is a usage error,
            # never a number too large for the database.
            sub, feed = await self._own(ctx, to_int(target, "id"))
            flt = for_subscription(sub)
            url = feed.url
        else:
            url = target
            flt = KeywordFilter(parse_keywords(include), parse_keywords(exclude))
            try:
                check_url(url, self.settings.allow_private_addresses)
            except FetchError as e:
                raise UsageError(f"That address won't do: {e.message.removeprefix('refused: ')}.") from None
        _, parsed, error = await self.service.fetch_and_parse(url, conditional=False)
        if error is not None or parsed is None:
            raise UserError(f"I couldn't read that feed: {escape(error or 'no content')}.")
        lines = preview_lines(parsed, flt, await self.core.tz_for(ctx.place.platform, ctx.place.scope_id))
        body = "\n".join(lines) if lines else "The feed has no items."
        footer = f"Filters: {flt.describe()}. Nothing was posted."
        title = f"Preview: {escape(_clip(parsed.title or url, 80))}"
        return Reply(card=Card(title=title, body=body, footer=escape(footer)), ephemeral=True)

    @command(
        "feeds pause",
        help="Stop posting a feed here for now: `!feeds pause <id>`.",
        moderator_only=True,
        args_help=_ID_HELP,
    )
    async def feeds_pause(self, ctx: CommandContext, id: int) -> Reply:
        sub, feed = await self._own(ctx, id)
        if sub.paused:
            raise UserError(f"Feed `{id}` is already paused here. `{ctx.prefix}feeds resume {id}` turns it back on.")
        await self.service.store.set_subscription_paused(sub.id, True)
        await self.core.audit.record(ctx.author, ctx.place.scope_id, "feeds.pause", str(sub.id), feed.url)
        return Reply(
            f"Paused **{escape(_clip(feed.display_name))}** in {channel_label(channel_of(sub))}. "
            f"`{ctx.prefix}feeds resume {id}` turns it back on (items from the pause are not posted)."
        )

    @command(
        "feeds resume",
        help="Turn a paused feed back on (also one the bot paused after errors): `!feeds resume <id>`.",
        moderator_only=True,
        args_help=_ID_HELP,
    )
    async def feeds_resume(self, ctx: CommandContext, id: int) -> Reply:
        sub, feed = await self._own(ctx, id)
        if not sub.paused and not feed.paused:
            raise UserError(f"Feed `{id}` is not paused.")
        store = self.service.store
        if sub.paused:
            await store.set_subscription_paused(sub.id, False)
        if feed.paused:
            await store.resume(feed.id, self.core.now())
        await self.core.audit.record(ctx.author, ctx.place.scope_id, "feeds.resume", str(sub.id), feed.url)
        self._poke()
        return Reply(f"Resumed **{escape(_clip(feed.display_name))}** in {channel_label(channel_of(sub))}.")

    @command(
        "feeds status",
        help="Per feed: last success, last error, next fetch, items posted.",
        moderator_only=True,
    )
    async def feeds_status(self, ctx: CommandContext) -> Reply:
        store = self.service.store
        subs = await store.subscriptions(platform=ctx.place.platform, scope_id=ctx.place.scope_id)
        if not subs:
            return Reply(f"No feeds yet. Add one with `{ctx.prefix}feeds add <url>`.", ephemeral=True)
        feeds = {f.id: f for f in await store.feeds(ids={s.feed_id for s in subs})}
        counts = await store.subscription_counts(s.id for s in subs)
        tz = await self.core.tz_for(ctx.place.platform, ctx.place.scope_id)
        fields = []
        for s in subs:
            f = feeds[s.feed_id]
            c = counts.get(s.id, {})
            if f.paused:
                state = f"⏸ paused by the bot: {escape(clean_text(f.paused_reason or 'repeated failures'))}"
                state += f" (`{ctx.prefix}feeds resume {s.id}`)"
            elif s.paused:
                state = f"⏸ paused by a moderator (`{ctx.prefix}feeds resume {s.id}`)"
            elif f.failing_since:
                state = f"⚠️ failing since {when(from_iso(f.failing_since), tz)} ({f.consecutive_failures} in a row)"
            else:
                state = "✅ working" if f.last_success_at else "waiting for the first fetch"
            error = "none"
            if f.last_error:
                error = f"{escape(clean_text(f.last_error))} ({when(from_iso(f.last_error_at), tz)})"
            if f.paused or s.paused:
                upcoming = "—"
            else:
                upcoming = when(from_iso(f.next_fetch_at), tz) if f.next_fetch_at else "soon"
            lines = [
                state,
                f"Last success: {when(from_iso(f.last_success_at), tz)}",
                f"Last error: {error}",
                f"Next fetch: {upcoming}",
                f"Posted: {s.posts_sent}; waiting: {c.get('pending', 0)}; failed: {c.get('failed', 0)}",
            ]
            name = f"`{s.id}` {escape(_clip(f.display_name, 60))} → {channel_label(channel_of(s))}"
            fields.append(CardField(name, "\n".join(lines)))
        return Reply(card=Card(title="Feed status", body=self._poller_line(tz), fields=tuple(fields)), ephemeral=True)

    def _poller_line(self, tz: tzinfo) -> str:
        """How the feed poller itself is doing: a feed that silently stops is the worst thing
        a feed bot can do, so a crash shows here until the poller has run cleanly again."""
        status = self.core.loops.get(POLLER)
        if status is None:
            return "The poller is not running in this process (it runs under `sendbot run`)."
        crash = ""
        if status.restarts:
            error = escape(clean_text(status.last_error or "unknown error"))
            crash = f" It has restarted {status.restarts} time(s); last crash {when(status.last_crash_at, tz)}: {error}"
        if status.state == "running":
            return f"Poller: ✅ running.{crash}"
        if status.state == "restarting":
            return f"Poller: ⚠️ crashed, restarting.{crash}"
        return "Poller: stopped."


def setup(core: BotCore) -> Cog:
    return FeedsCog(core)
