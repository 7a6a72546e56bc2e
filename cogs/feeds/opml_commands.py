"""`!feeds export` and `!feeds import`: a forum's subscriptions as an OPML file, and back.

Import takes an attached file (Discord attachment, the console's `< path`) or a link to
one, and checks each feed exactly as `!feeds add` does (address policy, already here, the
mode words) before anything is stored; then the new feeds' first fetches run in the
background and one follow-up says which work (any that can't be used are taken off again).
The file itself is read by feeds/opml.py, which refuses hostile XML. Composed into FeedsCog.
"""

from __future__ import annotations

import asyncio
import logging

from bot.commands import command
from bot.context import CommandContext
from bot.errors import UsageError, UserError
from bot.markup import escape
from bot.model import Attachment, ChannelRef, FileTooBig, Reply
from cogs.feeds.adding import FOLLOWUP, AddingMixin
from cogs.feeds.timing import timing_from
from cogs.feeds.words import clip
from feeds.filters import parse_keywords
from feeds.model import FetchError
from feeds.opml import MAX_BYTES, OpmlError, OpmlFeed, export_opml, parse_opml
from feeds.schedule import DAYS
from feeds.urls import check_url
from storage.feeds import Subscription, Timing

log = logging.getLogger("cogs.feeds.cog")

FIRST_FETCHES_AT_ONCE = 4


def _extra(s: Subscription) -> dict[str, str]:
    extra = {"include": ",".join(s.include), "exclude": ",".join(s.exclude), "quietHours": s.quiet_hours or ""}
    if s.mode == "digest":
        extra.update(mode="digest", digestAt=s.digest_at, digestEvery=s.digest_every)
        if s.digest_every == "week":
            extra["digestDay"] = DAYS[s.digest_day]
    return {k: v for k, v in extra.items() if v}


def _timing(f: OpmlFeed) -> Timing:
    x = f.extra
    return timing_from(
        Timing(),
        mode=x.get("mode", ""),
        at=x.get("digestAt", ""),
        every=x.get("digestEvery", ""),
        day=x.get("digestDay", ""),
        quiet=x.get("quietHours", ""),
    )


class OpmlMixin(AddingMixin):
    @command(
        "feeds export",
        help="This server's feed subscriptions as an OPML file (`here`: this channel's only).",
        moderator_only=True,
        args_help={"where": "`here` for this channel's feeds only"},
        examples=("!feeds export", "!feeds export here"),
    )
    async def feeds_export(self, ctx: CommandContext, where: str = "") -> Reply:
        if where and where.lower() != "here":
            raise UsageError("Use `!feeds export` for the whole server, or `!feeds export here` for this channel.")
        store = self.service.store
        subs = await store.subscriptions(platform=ctx.place.platform, scope_id=ctx.place.scope_id)
        if where:
            subs = [s for s in subs if s.channel_id == ctx.place.id]
        if not subs:
            return Reply("There are no feed subscriptions to export here.", ephemeral=True)
        feeds = {f.id: f for f in await store.feeds(ids={s.feed_id for s in subs})}
        entries = [OpmlFeed(feeds[s.feed_id].url, feeds[s.feed_id].display_name, _extra(s)) for s in subs]
        data = export_opml(entries, f"sendbot feeds ({ctx.place.name})", self.core.now())
        n = len(entries)
        text = (
            f"{n} feed subscription(s), as OPML: most feed readers can import it, and so can"
            f" `{ctx.prefix}feeds import` in another channel or forum."
        )
        return Reply(text, files=(Attachment("sendbot-feeds.opml", data, "text/x-opml"),))

    @command(
        "feeds import",
        help="Subscribe this channel to every feed in an OPML file: attach it, or give its link.",
        moderator_only=True,
        args_help={"link": "the OPML file's address, if it is not attached"},
        examples=("!feeds import  (with the .opml file attached)", "!feeds import https://example.org/feeds.opml"),
    )
    async def feeds_import(self, ctx: CommandContext, link: str = "") -> Reply:
        data = await self._opml_bytes(ctx, link.strip().strip("<>"))
        try:
            entries = parse_opml(data)
        except OpmlError as e:
            raise UserError(f"I couldn't read that file: {escape(str(e))}. Nothing was changed.") from None
        if not entries:
            raise UserError("That file lists no feeds. Nothing was changed.")
        channel = ctx.place.ref
        added: list[tuple[Subscription, str]] = []
        skipped: list[str] = []
        rejected: list[str] = []
        for f in entries:
            try:
                await self._check_add(f.url, channel, 0, 0)
                timing = _timing(f)
            except UsageError as e:
                rejected.append(f"{escape(clip(f.url, 80))} ({e.message})")  # our own words
                continue
            except UserError:
                skipped.append(escape(clip(f.url, 80)))
                continue
            sub, _ = await self.service.store.subscribe(
                f.url,
                channel,
                self.core.now(),
                include=parse_keywords(f.extra.get("include", "")),
                exclude=parse_keywords(f.extra.get("exclude", "")),
                created_by=ctx.author.id,
                timing=timing,
            )
            added.append((sub, f.url))
        await self.core.audit.record(
            ctx.author, ctx.place.scope_id, "feeds.import", str(len(added)), f"skipped {len(skipped)}"
        )
        if added:
            ctx.after_reply.append(lambda: self._start_import_fetches(added, channel))
        lines = [f"Import: {len(added)} added, {len(skipped)} skipped (already here), {len(rejected)} rejected."]
        if added:
            lines.append("I am checking the added feeds now...")
        if skipped:
            lines.append("Skipped: " + ", ".join(skipped[:10]) + (" …" if len(skipped) > 10 else ""))
        lines += [f"Rejected: {r}" for r in rejected[:10]]
        return Reply("\n".join(lines))

    async def _opml_bytes(self, ctx: CommandContext, link: str) -> bytes:
        """The attached file's bytes, or the linked file's (fetched like a feed: the same
        address checks), at most MAX_BYTES."""
        files = ctx.incoming.files
        if files:
            try:
                return await files[0].read(MAX_BYTES)
            except FileTooBig:
                raise UserError(f"That file is too big (the most is {MAX_BYTES // 1024} KB).") from None
            except ValueError as e:
                raise UserError(f"I couldn't read the attached file: {escape(str(e))}.") from None
        if not link:
            raise UsageError("Attach an OPML file to the command, or give its link: `!feeds import <link>`.")
        try:
            check_url(link, self.settings.allow_private_addresses)
        except FetchError as e:
            raise UsageError(f"That address won't do: {e.message.removeprefix('refused: ')}.") from None
        fetched = await self.service.fetcher.fetch(link)
        if not fetched.ok or fetched.body is None:
            raise UserError(f"I couldn't fetch that file: {escape(fetched.error or 'no content')}.")
        if len(fetched.body) > MAX_BYTES:
            raise UserError(f"That file is too big (the most is {MAX_BYTES // 1024} KB).")
        return fetched.body

    async def _start_import_fetches(self, added: list[tuple[Subscription, str]], channel: ChannelRef) -> None:
        task = self.core.spawn(self._import_fetches(added, channel), name=f"{FOLLOWUP}feeds-import")
        self.first_fetches.add(task)
        task.add_done_callback(self.first_fetches.discard)

    async def _import_fetches(self, added: list[tuple[Subscription, str]], channel: ChannelRef) -> None:
        gate = asyncio.Semaphore(FIRST_FETCHES_AT_ONCE)

        async def one(sub: Subscription, url: str) -> bool:
            async with gate:
                try:
                    ok, _ = await self._fetch_new(sub, url, channel, 0)
                except Exception:
                    return True  # kept: the poller tries again
                return ok

        results = await asyncio.gather(*(one(sub, url) for sub, url in added))
        bad = [escape(clip(url, 80)) for (_, url), ok in zip(added, results, strict=True) if not ok]
        text = f"Checked the imported feeds: {len(added) - len(bad)} working."
        if bad:
            text += f" {len(bad)} couldn't be used and were taken off again: " + ", ".join(bad[:10])
        try:
            await self.core.post(channel, Reply(text))
        except Exception as e:  # the channel has gone, the platform is away: the log says so
            log.warning("feeds: could not post the import report: %s", e)
        self._poke()
