"""The console adapter: the bot in a terminal, with no tokens. Also the test surface.

You are a user in a channel called #general (config `[console] channel`). Interactive
when stdin is a terminal; otherwise one command per line, then exit at end of input, so
`printf '!help\\n' | sendbot run` works in scripts and tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
import sys
import threading
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.adapters.base import Adapter, Answer
from bot.core import BotCore
from bot.dispatcher import Outcome
from bot.markup import clean_text, to_plain
from bot.model import Actor, Attachment, Card, ChannelRef, FileTooBig, Incoming, IncomingFile, Place, Reply

PLATFORM = "console"
SCOPE = "console"
RULE = "─" * 60


_ATTACH_RE = re.compile(r"\s<\s+(\S+)\s*$")


def attached_files(text: str) -> tuple[str, tuple[IncomingFile, ...]]:
    """A console line may attach a local file as a chat message would: `!feeds import < subs.opml`
    (a `<`, a space, then the path, at the end of the line). The console's user runs the bot,
    so reading their own file is theirs to ask; the file is read only when a command asks."""
    m = _ATTACH_RE.search(text)
    if not m:
        return text, ()
    path = Path(m[1]).expanduser()

    async def read(limit: int) -> bytes:
        try:
            size = path.stat().st_size
            if size > limit:
                raise FileTooBig(f"{path.name} is {size} bytes")
            return await asyncio.to_thread(path.read_bytes)
        except OSError as e:
            raise ValueError(f"can't read {path.name}: {e.strerror or e}") from None

    size = path.stat().st_size if path.is_file() else 0
    return text[: m.start()], (IncomingFile(path.name, size, read),)


def card_date(when: datetime) -> str:
    """A card's timestamp as a reader says it: "27 Nov 2026"."""
    return f"{when.day} {when:%b %Y}"


def render_card(card: Card) -> str:
    lines = [f"┌ {to_plain(card.title)}"]
    if card.body:
        lines += [f"│ {line}" if line else "│" for line in to_plain(card.body).splitlines()]
    for f in card.fields:
        lines.append("│")
        name = to_plain(f.name)
        # "Has the law changed?" needs no colon after it.
        lines.append(f"│ {name}" if name.endswith(("?", ":", "!", ".")) else f"│ {name}:")
        lines += [f"│   {line}" for line in to_plain(f.value).splitlines()]
    if card.url:
        lines.append("│")
        lines.append(f"│ Link: {card.url}")
    footer = to_plain(card.footer) if card.footer else ""
    if card.timestamp is not None:
        # A feed item's date (the card's timestamp is already in the forum's timezone).
        footer = " · ".join(p for p in (footer, card_date(card.timestamp)) if p)
    if footer:
        lines.append("│")
        lines += [f"└ {line}" for line in footer.splitlines()]
    else:
        lines.append("└")
    return "\n".join(lines)


def render_reply(reply: Reply) -> str:
    parts = []
    if reply.text:
        parts.append(to_plain(reply.text))
    if reply.card:
        parts.append(render_card(reply.card))
    if reply.choices:
        # A terminal has no buttons: the reply's own words say what to type instead.
        labels = "  ".join(f"[{to_plain(c.label)}]" for c in reply.choices)
        parts.append(f"Buttons on Discord and Slack: {labels}")
    text = "\n".join(parts)
    if reply.ephemeral:
        text = "(only you can see this)\n" + text
    return text


def _safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFKC", name)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "attachment"
    return name[:80]


class _ConsoleAnswer(Answer):
    """The terminal is both the channel and the person: a private reply is printed marked
    "(only you can see this)", so it never needs a direct message or a public fallback."""

    def __init__(self, adapter: ConsoleAdapter, incoming: Incoming) -> None:
        self.adapter = adapter
        self.incoming = incoming

    # The mark follows the way a reply went, not what it asked for, so the console shows
    # what a channel would: a private reply that fell back to public would be seen unmarked.
    async def private(self, reply: Reply) -> bool:
        self.adapter._print(self.adapter._with_files(dataclasses.replace(reply, ephemeral=True)))
        return True

    async def public(self, reply: Reply) -> None:
        self.adapter._print(self.adapter._with_files(dataclasses.replace(reply, ephemeral=False)))

    async def remove_trigger(self) -> None:
        # The typed line stays on the terminal; what is shown is what a channel would show.
        await self.adapter.delete(self.incoming.place.ref, self.incoming.message_id or "")


class ConsoleAdapter(Adapter):
    """Both the adapter (reads lines, prints replies) and the console's Messenger."""

    platform = PLATFORM
    can_edit = True

    def __init__(self, core: BotCore, *, as_member: bool = False, out: TextIO | None = None) -> None:
        self.core = core
        self.out = out or sys.stdout
        cfg = core.config.console
        self.attachments_dir = Path(cfg.attachments_dir)
        self.actor = Actor(PLATFORM, "console-user", cfg.user, is_moderator=not as_member)
        self.place = Place(PLATFORM, SCOPE, cfg.channel, cfg.channel)
        self._ids = itertools.count(1)
        # Set by `run`: how many lines came in, and whether stdin was a terminal (`sendbot run`
        # refuses a console that read nothing: nothing to serve).
        self.lines_read = 0
        self.interactive = False
        core.register_messenger(self)

    # -- Messenger -------------------------------------------------------------------

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        message_id = f"c{next(self._ids)}"
        self._print(f"[#{channel.channel_id}] " + self._with_files(reply))
        return message_id

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        self._print(f"[#{channel.channel_id}] (updated) " + self._with_files(reply))

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        self._print(f"[#{channel.channel_id}] (a message was removed)")

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        self._print("[private message] " + self._with_files(reply))
        return f"c{next(self._ids)}"

    # -- commands --------------------------------------------------------------------

    def incoming(self, text: str) -> Incoming:
        text, files = attached_files(text)
        return Incoming(text=text, author=self.actor, place=self.place, message_id=f"c{next(self._ids)}", files=files)

    async def ask(self, text: str) -> Outcome | None:
        """Dispatch one line; print its replies. None if the line was not a command.

        Unlike the chat platforms there is no failure note here: what can fail is the
        terminal itself (a closed pipe), and that has to reach `run_bot` to stop the bot."""
        incoming = self.incoming(text)
        outcome = await self.core.dispatcher.handle(incoming)
        if outcome is not None:
            await self.deliver(outcome, incoming, _ConsoleAnswer(self, incoming))
        return outcome

    def _with_files(self, reply: Reply) -> str:
        text = render_reply(reply)
        for f in reply.files:
            path = self.save_attachment(f)
            text += f"\n📎 Attachment saved: {path}"
        return text

    def save_attachment(self, attachment: Attachment) -> Path:
        self.attachments_dir.mkdir(parents=True, exist_ok=True)
        base = _safe_filename(attachment.filename)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        path = self.attachments_dir / base
        n = 1
        while path.exists():
            n += 1
            path = self.attachments_dir / (f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}")
        path.write_bytes(attachment.content)
        return path

    def _print(self, text: str) -> None:
        # What is printed may quote a feed or a report: no escape sequence reaches the terminal.
        self.out.write(clean_text(text).rstrip("\n") + "\n")
        self.out.flush()

    # -- the loop --------------------------------------------------------------------

    async def run(self, stdin: TextIO | None = None) -> None:
        """Read lines until end of input."""
        stdin = stdin or sys.stdin
        interactive = self.interactive = stdin.isatty()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def reader() -> None:
            # A daemon thread, so a pending read never holds up shutdown.
            try:
                for line in stdin:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
            except (OSError, ValueError):
                pass
            finally:
                loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=reader, name="console-stdin", daemon=True).start()
        p = self.core.prefix
        if interactive:
            role = "a moderator" if self.actor.is_moderator else "a member (not a moderator)"
            self._print(
                f"sendbot console: you are in #{self.place.name} as {self.actor.name!r}, {role}. "
                f"Type {p}help for commands, Ctrl-D to quit."
            )
        while True:
            if interactive:
                self.out.write(f"#{self.place.name}> ")
                self.out.flush()
            line = await lines.get()
            if line is None:
                break
            self.lines_read += 1
            text = line.strip()
            if not text:
                continue
            outcome = await self.ask(text)
            if outcome is None and interactive:
                self._print(f"(Commands start with {p}, for example {p}help)")
        if interactive:
            self._print("")
