"""`sendbot feeds preview <url>` and `sendbot feeds poll --once`.

Everything printed that can carry a feed's or a server's words goes through `_say`, which
drops terminal escape sequences and control, bidi and zero-width characters: a feed title
must not be able to recolour, clear or retitle the moderator's terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.model import ChannelRef, Reply


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    # --config goes on the leaf parsers only: argparse lets a subparser's default overwrite
    # a value its parent already parsed.
    p = subparsers.add_parser("feeds", help="news feeds: preview a feed, or run one poll cycle")
    sub = p.add_subparsers(dest="feeds_command", metavar="ACTION")
    pv = sub.add_parser("preview", parents=[common], help="show a feed's latest items through filters (posts nothing)")
    pv.add_argument("url")
    pv.add_argument("--include", default="", help="comma-separated keywords an item must mention")
    pv.add_argument("--exclude", default="", help="comma-separated keywords an item must not mention")
    pv.add_argument("--items", type=int, default=10, help="how many items to show (default 10)")
    pv.set_defaults(func=cmd_preview)
    pl = sub.add_parser("poll", parents=[common], help="fetch every active feed once and deliver to the console")
    pl.add_argument("--once", action="store_true", required=True, help="one cycle, then a one-line summary")
    pl.set_defaults(func=cmd_poll)
    p.set_defaults(func=lambda args, config: _usage(p))


def _say(text: str, *, file: TextIO | None = None) -> None:
    """Print text that may come from a feed or a server, with nothing a terminal obeys."""
    from feeds.normalise import clean_text

    print(clean_text(text), file=file or sys.stdout, flush=True)


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def cmd_preview(args: argparse.Namespace, config: Config) -> int:
    return asyncio.run(_preview(args, config))


async def _preview(args: argparse.Namespace, config: Config) -> int:
    # Imported here so that `sendbot --help` and other commands don't load aiohttp.
    from bot.markup import to_plain
    from feeds.fetch import Fetcher, FetchError, FetchSettings, check_url
    from feeds.filters import KeywordFilter, parse_keywords
    from feeds.parse import ParseError, Parser
    from feeds.preview import match_count, preview_lines
    from feeds.settings import FeedsSettings

    settings = config.section(FeedsSettings)
    try:
        check_url(args.url, settings.allow_private_addresses)
    except FetchError as e:
        _say(f"sendbot feeds preview: {e.message}", file=sys.stderr)
        return 2
    fetcher = Fetcher(FetchSettings.from_config(settings))
    parser = Parser(workers=1)
    try:
        fetched = await fetcher.fetch(args.url)
        if not fetched.ok or fetched.body is None:
            _say(f"sendbot feeds preview: {fetched.error}", file=sys.stderr)
            return 1
        try:
            parsed = await parser.parse(fetched.body, fetched.final_url or args.url)
        except ParseError as e:
            _say(f"sendbot feeds preview: {e}", file=sys.stderr)
            return 1
    finally:
        await fetcher.close()
        await parser.close()
    flt = KeywordFilter(parse_keywords(args.include), parse_keywords(args.exclude))
    _say(f"{parsed.title} ({len(parsed.items)} items, {match_count(parsed, flt)} pass filters: {flt.describe()})")
    for line in preview_lines(parsed, flt, ZoneInfo(config.bot.timezone), limit=max(1, args.items)):
        _say(to_plain(line))
    print("Nothing was posted.")
    return 0


def cmd_poll(args: argparse.Namespace, config: Config) -> int:
    return asyncio.run(_poll(config))


class PrintingMessenger:
    """The console's Messenger for `poll --once`: posts are printed, so a new user sees them.
    (feeds/ may not import adapters; this is the few lines it needs.)"""

    platform = "console"
    can_edit = False  # a printed line can't change; an update prints once, marked

    def __init__(self) -> None:
        self._n = 0

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        from bot.markup import to_plain

        lines = [to_plain(reply.text)] if reply.text else []
        if reply.card:
            card = reply.card
            lines.append(to_plain(card.title))
            lines += [f"  {line}" for line in to_plain(card.body).splitlines() if line.strip()]
            if card.url:
                lines.append(f"  {card.url}")
            if card.footer:
                lines.append(f"  {to_plain(card.footer)}")
        _say(f"[#{channel.channel_id}] " + "\n".join(lines))
        self._n += 1
        return f"cli{self._n}"

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        await self.post(channel, reply)

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        pass

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        return await self.post(ChannelRef("console", scope_id, f"dm-{user_id}"), reply)


async def _poll(config: Config) -> int:
    from bot.core import BotCore
    from feeds.service import FeedService
    from storage.db import InstanceLocked

    try:
        # It delivers, so it takes the database's lock like `sendbot run`: never both at once.
        core = await BotCore.create(config, exclusive=True)
    except InstanceLocked as e:
        print(f"sendbot feeds poll: {e}", file=sys.stderr)
        return 1
    try:
        # Deliveries to console channels are printed; other platforms' deliveries stay
        # queued for `sendbot run`, where their adapters are connected.
        core.register_messenger(PrintingMessenger())
        await core.start()
        service = getattr(core.cogs.get("feeds"), "service", None)
        if not isinstance(service, FeedService):
            print("sendbot feeds poll: the feeds cog is not loaded", file=sys.stderr)
            return 1
        summary = await service.poll_due(force=True)
        delivered = await service.deliver_due()
    finally:
        await core.stop()
    _say(
        f"Polled {summary.line()}; delivered {delivered.sent} post(s) to the console"
        + (f", {delivered.retrying} to retry" if delivered.retrying else "")
        + (f", {delivered.failed} failed" if delivered.failed else "")
        + "."
    )
    return 1 if summary.feeds and summary.errors == summary.feeds else 0
