"""`!feeds add` and `!feeds set`: subscribe a channel, and choose how it is posted to.

`!feeds add` answers at once; the first fetch runs in the background and is reported in a
follow-up message (what was recorded, or why the feed can't be used: then the subscription
is taken off again, so a mistyped address changes nothing). Composed into FeedsCog.
"""

from __future__ import annotations

import asyncio
import logging

from bot.commands import command
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UsageError, UserError
from bot.markup import escape
from bot.model import ChannelRef, Reply
from cogs.feeds.timing import TIMING_HELP, timing_from
from cogs.feeds.words import channel_label
from cogs.feeds.words import clip as _clip
from feeds.channels import channel_of
from feeds.filters import KeywordFilter, parse_keywords, subscription_accepts
from feeds.model import FetchError, ParsedFeed
from feeds.preview import match_count
from feeds.schedule import describe
from feeds.scheduler import after_success
from feeds.service import FeedService
from feeds.settings import FeedsSettings
from feeds.urls import check_url
from storage.feeds import Feed, Subscription, Timing

log = logging.getLogger("cogs.feeds.cog")

# Background work that reports back in chat after a command's answer (the first fetch of
# `!feeds add`): the names start with this, so a stop (and the test harness) can wait for it.
FOLLOWUP = "followup:"
MAX_LATEST = 20


class AddingMixin:
    """FeedsCog sets these."""

    core: BotCore
    settings: FeedsSettings
    service: FeedService
    first_fetches: set[asyncio.Task[None]]

    def _poke(self) -> None:
        raise NotImplementedError

    async def _own(self, ctx: CommandContext, sub_id: int) -> tuple[Subscription, Feed]:
        raise NotImplementedError

    @command(
        "feeds add",
        help="Subscribe this channel to a feed. Posts nothing old unless you ask for the latest N.",
        moderator_only=True,
        args_help={
            "url": "the feed's address (RSS or Atom)",
            "include": "post only items mentioning one of these (comma-separated)",
            "exclude": "never post items mentioning these (comma-separated)",
            "latest": f"also post the latest N matching items now (0-{MAX_LATEST})",
            "interval": "minutes between fetches of this feed (2-1440; default from the config)",
            **TIMING_HELP,
        },
        examples=(
            "!feeds add https://www.specialneedsjungle.com/feed/",
            "!feeds add https://www.gov.uk/government/organisations/department-for-education.atom include=SEND,EHC",
            "!feeds add https://www.specialneedsjungle.com/feed/ mode=digest at=18:00 quiet=21:00-07:00",
        ),
    )
    async def feeds_add(
        self,
        ctx: CommandContext,
        url: str,
        *,
        include: str = "",
        exclude: str = "",
        latest: int = 0,
        interval: int = 0,
        mode: str = "",
        at: str = "",
        every: str = "",
        day: str = "",
        quiet: str = "",
    ) -> Reply:
        url = url.strip().strip("<>")
        channel = ctx.place.ref
        timing = timing_from(Timing(), mode=mode, at=at, every=every, day=day, quiet=quiet)
        await self._check_add(url, channel, latest, interval)
        inc, exc = parse_keywords(include), parse_keywords(exclude)
        sub, _ = await self.service.store.subscribe(
            url,
            channel,
            self.core.now(),
            include=inc,
            exclude=exc,
            latest=latest,
            interval_minutes=interval or None,
            created_by=ctx.author.id,
            timing=timing,
        )
        await self.core.audit.record(ctx.author, ctx.place.scope_id, "feeds.add", str(sub.id), url)
        # The answer goes now; the first fetch (up to [feeds] total_timeout_seconds) is
        # reported in a follow-up message once the answer is out.
        ctx.after_reply.append(lambda: self._start_first_fetch(sub, url, channel, latest))
        how = f" Posts: {describe(sub)}." if timing != Timing() else ""
        return Reply(f"Added. I am checking the feed now... (id `{sub.id}`){how}")

    async def _start_first_fetch(self, sub: Subscription, url: str, channel: ChannelRef, latest: int) -> None:
        task = self.core.spawn(self._first_fetch(sub, url, channel, latest), name=f"{FOLLOWUP}feeds-add-{sub.id}")
        self.first_fetches.add(task)
        task.add_done_callback(self.first_fetches.discard)

    async def _first_fetch(self, sub: Subscription, url: str, channel: ChannelRef, latest: int) -> None:
        """Fetch a new subscription's feed, record what is there, and say how it went. A feed
        that cannot be used is taken off again, so a mistyped address changes nothing."""
        try:
            _, text = await self._fetch_new(sub, url, channel, latest)
        except Exception:
            log.exception("feeds: the first fetch of subscription %s failed", sub.id)
            text = f"Something went wrong checking {escape(_clip(url))}. I will try again with the next fetch."
        try:
            await self.core.post(channel, Reply(text))
        except Exception as e:  # the channel has gone, the platform is away: the log says so
            log.warning("feeds: could not post the first-fetch report for subscription %s: %s", sub.id, e)
        self._poke()

    async def _fetch_new(self, sub: Subscription, url: str, channel: ChannelRef, latest: int) -> tuple[bool, str]:
        """(usable, what to say) after a new subscription's first fetch."""
        store = self.service.store
        fetched, parsed, error = await self.service.fetch_and_parse(url, conditional=False)
        if error is not None or parsed is None:
            if await store.subscription(sub.id) is not None:
                await store.remove_subscription(sub.id)
            reason = escape(error or "no content").rstrip(".")
            end = "" if reason.endswith("?") else "."
            return False, (
                f"I couldn't use that feed: {reason}{end} Nothing was added (I took it off again)."
                " Check the address and try again."
            )
        feed = await store.feed(sub.feed_id)
        if feed is None:  # removed meanwhile
            return False, f"Subscription `{sub.id}` was removed before its first fetch finished."
        now = self.core.now()
        report = await store.ingest(
            feed.id,
            parsed.title,
            parsed.items,
            subscription_accepts,
            now,
            after_success(now, self.service.interval(feed), max_age=fetched.max_age),
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            body_hash=fetched.body_hash,
            hold=await self.service.hold_for(feed.id),
        )
        flt = KeywordFilter(sub.include, sub.exclude)
        return True, self._added_text(url, channel, sub.id, parsed, flt, sub.id in report.primed, latest, feed)

    async def _check_add(self, url: str, channel: ChannelRef, latest: int, interval: int) -> None:
        """`!feeds add`'s arguments, refused before anything is fetched."""
        if not 0 <= latest <= MAX_LATEST:
            raise UsageError(f"`latest` should be between 0 and {MAX_LATEST}.")
        if interval and not 2 <= interval <= 1440:
            raise UsageError("`interval` should be between 2 and 1440 minutes.")
        try:
            check_url(url, self.settings.allow_private_addresses)
        except FetchError as e:
            raise UsageError(f"That address won't do: {e.message.removeprefix('refused: ')}.") from None
        store = self.service.store
        known = await store.feed_by_url(url)
        if known is not None:
            for s in await store.subscriptions(feed_id=known.id):
                if channel_of(s) == channel:
                    raise UserError(f"This channel already has that feed (id `{s.id}`).")

    def _added_text(
        self,
        url: str,
        channel: ChannelRef,
        sub_id: int,
        parsed: ParsedFeed,
        flt: KeywordFilter,
        primed: bool,
        latest: int,
        feed: Feed,
    ) -> str:
        """What `!feeds add` answers: what was recorded, what (if anything) posts now."""
        matching = match_count(parsed, flt)
        name = escape(_clip(parsed.title or url, 80))
        lines = [
            f"Subscribed {channel_label(channel)} to **{name}** (id `{sub_id}`).",
            f"Recorded {len(parsed.items)} current item(s); {matching} pass the filters"
            f" ({escape(flt.describe())}) and would have been posted.",
        ]
        if primed and latest:
            lines.append(f"Queued the latest {min(latest, matching)} to post now.")
        else:
            lines.append(
                f"None of those were posted (that would flood the channel); `latest=N` posts the newest N. "
                f"New items will appear within about {self.service.interval(feed)} minutes."
            )
        if parsed.warning:
            lines.append(f"Note: the feed is slightly malformed ({escape(_clip(parsed.warning, 80))}), but readable.")
        return "\n".join(lines)

    @command(
        "feeds set",
        help="How a feed posts here: each post or a digest, and quiet hours (`!feeds set <id> quiet=21:00-07:00`).",
        moderator_only=True,
        args_help={"id": "the subscription's id, from `!feeds list`", **TIMING_HELP},
        examples=(
            "!feeds set 1 mode=digest at=18:00",
            "!feeds set 1 mode=digest every=week day=friday at=17:00",
            "!feeds set 1 quiet=21:00-07:00",
            "!feeds set 1 mode=each quiet=off",
        ),
    )
    async def feeds_set(
        self,
        ctx: CommandContext,
        id: int,
        *,
        mode: str = "",
        at: str = "",
        every: str = "",
        day: str = "",
        quiet: str = "",
    ) -> Reply:
        if not (mode or at or every or day or quiet):
            raise UsageError("Say what to change: `mode=`, `at=`, `every=`, `day=` or `quiet=`.")
        sub, feed = await self._own(ctx, id)
        timing = timing_from(Timing.of(sub), mode=mode, at=at, every=every, day=day, quiet=quiet)
        await self.service.store.set_timing(sub.id, timing)
        await self.core.audit.record(ctx.author, ctx.place.scope_id, "feeds.set", str(sub.id), describe(timing))
        note = ""
        if sub.source == "config":
            note = " It is set in the config file too, so the file's setting comes back at the next start."
        return Reply(
            f"**{escape(_clip(feed.display_name))}** in {channel_label(channel_of(sub))} now posts: "
            f"{escape(describe(timing))}. Posts already waiting keep their time.{note}"
        )
