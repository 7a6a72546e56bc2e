"""Neutral replies to Discord messages: Card -> Embed, text split to Discord's limits, and
allowed mentions that ping nobody except one explicitly configured role.

Kept apart from the adapter so that rendering is a pure function that tests can check
without a gateway, and so the mention rules live in one place.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.markup import render_channels, to_plain
from bot.model import Attachment, Card, CardField, Reply

# Discord's documented limits (https://discord.com/developers/docs/resources/message).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
FILES_LIMIT = 10

DEFAULT_COLOUR = 0x2A7AB0
_ZWSP = "\u200b"
_MASS_MENTION = re.compile(r"@(everyone|here)", re.I)
_URL_OK = re.compile(r"^https?://\S+$")
# Discord fetches an embed's image itself; only https addresses, and none longer than this.
_IMAGE_OK = re.compile(r"^https://\S+$")
IMAGE_URL_LIMIT = 2048


def no_mentions() -> discord.AllowedMentions:
    """What every message the bot sends carries: nobody and no role is pinged."""
    return discord.AllowedMentions.none()


def role_mention_only(role_id: int) -> discord.AllowedMentions:
    """Exactly one role may be pinged; users, @everyone and replies stay silent."""
    return discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(id=role_id)], replied_user=False)


def defuse(text: str) -> str:
    """Break @everyone/@here visually too (allowed mentions already stop the ping), so a
    feed title or a report quoting "@everyone" never looks like the bot shouting. Neutral
    channel references become Discord channel links (numeric ids) or plain #names."""
    text = render_channels(text, lambda cid: f"<#{cid}>" if cid.isdigit() else f"#{cid}")
    return _MASS_MENTION.sub(lambda m: "@" + _ZWSP + m.group(1), text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split at line breaks (then spaces) so no chunk exceeds `limit`; nothing is dropped."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        chunks.append(rest)
    return chunks


def _field_chunks(f: CardField) -> list[tuple[str, str, bool]]:
    """A long field value continues in further fields (a long help list must not be cut)."""
    name = clip(to_plain(f.name) or _ZWSP, FIELD_NAME_LIMIT)
    parts = split_text(defuse(f.value), FIELD_VALUE_LIMIT) or [_ZWSP]
    return [(name if i == 0 else _ZWSP, part, f.inline) for i, part in enumerate(parts)]


def render_embed(card: Card) -> discord.Embed:
    """A Card as an embed within every per-field and total limit.

    Priority when space runs out: title, footer (it carries the "not legal advice"
    signpost), body, then fields in order, with a note where fields had to stop."""
    title = clip(to_plain(card.title), TITLE_LIMIT)
    footer = clip(to_plain(card.footer), FOOTER_LIMIT) if card.footer else ""
    budget = EMBED_TOTAL_LIMIT - len(title) - len(footer)
    description = clip(defuse(card.body), min(DESCRIPTION_LIMIT, budget))
    budget -= len(description)
    embed = discord.Embed(
        title=title or None,
        description=description or None,
        colour=card.colour if card.colour is not None else DEFAULT_COLOUR,
        url=card.url if card.url and _URL_OK.match(card.url) else None,
        timestamp=card.timestamp if card.timestamp is not None and card.timestamp.tzinfo is not None else None,
    )
    if card.image_url and len(card.image_url) <= IMAGE_URL_LIMIT and _IMAGE_OK.match(card.image_url):
        embed.set_image(url=card.image_url)
    if footer:
        embed.set_footer(text=footer)
    fields = [chunk for f in card.fields for chunk in _field_chunks(f)]
    note = "(more than fits here: ask again with a narrower question)"
    for i, (name, value, inline) in enumerate(fields):
        is_last = i == len(fields) - 1
        # Keep room for the note unless this is the last field.
        reserve = 0 if is_last else len(_ZWSP) + len(note)
        slots = FIELD_COUNT_LIMIT - len(embed.fields) - (0 if is_last else 1)
        if len(name) + len(value) + reserve > budget or slots < 1:
            if budget >= len(_ZWSP) + len(note) and len(embed.fields) < FIELD_COUNT_LIMIT:
                embed.add_field(name=_ZWSP, value=note, inline=False)
            break
        embed.add_field(name=name, value=value, inline=inline)
        budget -= len(name) + len(value)
    return embed


# A card too long for one embed continues in further messages (render_pages), up to this many.
MAX_PAGES = 10
_PAGE_BODY = DESCRIPTION_LIMIT - 96  # room for what defuse() adds (channel links, ZWSP)
_PAGE_TOTAL = EMBED_TOTAL_LIMIT - TITLE_LIMIT - 200  # room for the title and a short footer


def _field_size(f: CardField) -> int:
    return len(f.name) + len(f.value)


def _fits(card: Card) -> bool:
    chunks = sum(len(_field_chunks(f)) for f in card.fields)
    size = len(card.body) + sum(_field_size(f) for f in card.fields) + len(card.footer or "")
    return len(card.body) <= _PAGE_BODY and size <= _PAGE_TOTAL and chunks <= FIELD_COUNT_LIMIT


def render_pages(card: Card) -> list[Card]:
    """A card as one or more cards that each fit one embed. A long one (`!feeds list` or
    `!feeds status` after importing 200 feeds) continues in further messages instead of
    being cut at 4096 characters or 25 fields: the body in pieces split at line breaks, then
    the fields in groups; the title, link, picture and date on the first, the footer on the
    last; at most MAX_PAGES, the last saying when more did not fit. Edits, which replace one
    message, use render_embed's cut instead."""
    if _fits(card):
        return [card]
    first = Card(card.title, "", url=card.url, colour=card.colour, image_url=card.image_url, timestamp=card.timestamp)
    pages = [
        dataclasses.replace(first, body=chunk) if i == 0 else Card("", chunk, colour=card.colour)
        for i, chunk in enumerate(split_text(card.body, _PAGE_BODY) or [""])
    ]
    for f in card.fields:
        last = pages[-1]
        grown = dataclasses.replace(last, fields=(*last.fields, f))
        if _fits(grown) or not (last.body or last.fields):
            pages[-1] = grown  # (a field too big for any page alone is render_embed's to cut)
        else:
            pages.append(Card("", fields=(f,), colour=card.colour))
    if len(pages) > MAX_PAGES:
        pages = pages[:MAX_PAGES]
        note = CardField(_ZWSP, "(more than fits here: ask again with a narrower question)")
        pages[-1] = dataclasses.replace(pages[-1], fields=(*pages[-1].fields, note))
    pages[-1] = dataclasses.replace(pages[-1], footer=card.footer)
    return pages


def to_file(attachment: Attachment) -> discord.File:
    return discord.File(io.BytesIO(attachment.content), filename=attachment.filename or "attachment")


@dataclass
class MessagePart:
    """One Discord message's worth of a reply."""

    content: str | None = None
    embed: discord.Embed | None = None
    files: list[discord.File] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by send/reply/followup.send (empty values left out)."""
        out: dict[str, Any] = {}
        if self.content:
            out["content"] = self.content
        if self.embed is not None:
            out["embed"] = self.embed
        if self.files:
            out["files"] = self.files
        return out


@dataclass
class Rendered:
    parts: list[MessagePart]
    allowed_mentions: discord.AllowedMentions


def render(reply: Reply, *, ping_role_id: int | None = None) -> Rendered:
    """Split a reply into messages. Text comes first (split at 2000 characters); the embed
    and files ride on the last text message, or on their own if there is no text.

    `ping_role_id` is the resolved Reply.ping_role; when given, the first message starts
    with that role's mention and is the only one allowed to ping it.
    """
    text = defuse(reply.text) if reply.text else ""
    mentions = no_mentions()
    if ping_role_id is not None:
        text = f"<@&{ping_role_id}> {text}".rstrip()
        mentions = role_mention_only(ping_role_id)
    chunks = split_text(text) if text else []
    parts = [MessagePart(content=c) for c in chunks] or [MessagePart()]
    if reply.card is not None:
        pages = [render_embed(page) for page in render_pages(reply.card)]
        parts[-1].embed = pages[0]
        parts += [MessagePart(embed=embed) for embed in pages[1:]]
    last = parts[-1]
    files = [to_file(a) for a in reply.files]
    last.files = files[:FILES_LIMIT]
    for i in range(FILES_LIMIT, len(files), FILES_LIMIT):
        parts.append(MessagePart(files=files[i : i + FILES_LIMIT]))
    if not any(p.content or p.embed or p.files for p in parts):
        parts = [MessagePart(content=_ZWSP)]
    return Rendered(parts, mentions)


def render_single(reply: Reply, *, ping_role_id: int | None = None) -> Rendered:
    """For edits, which replace exactly one message: text beyond one message is clipped."""
    rendered = render(reply, ping_role_id=ping_role_id)
    if len(rendered.parts) == 1:
        return rendered
    text = "\n".join(p.content for p in rendered.parts if p.content)
    embed = next((p.embed for p in rendered.parts if p.embed is not None), None)
    files = [f for p in rendered.parts for f in p.files][:FILES_LIMIT]
    return Rendered([MessagePart(clip(text, CONTENT_LIMIT) or None, embed, files)], rendered.allowed_mentions)


def plain_text_of(message: discord.Message) -> str:
    """A message's visible text, including its embeds', for reports of bot posts."""
    parts: list[str] = [message.content] if message.content else []
    for e in message.embeds:
        parts += [p for p in (e.title, e.description) if p]
        parts += [f"{f.name}: {f.value}" for f in e.fields]
    return "\n".join(parts)


def resolve_role(ping_role: str | None, roles: Iterable[discord.Role], guild_id: int | None) -> int | None:
    """A configured role (id or name) to its id; never @everyone or @here."""
    if not ping_role:
        return None
    wanted = ping_role.strip().lstrip("@")
    m = re.fullmatch(r"<@&(\d{15,21})>|(\d{15,21})", wanted)
    if m:
        role_id = int(m.group(1) or m.group(2))
        return None if role_id == guild_id else role_id
    if wanted.lower() in {"everyone", "here"}:
        return None
    for role in roles:
        if role.name.lower() == wanted.lower() and not role.is_default():
            return role.id
    return None
