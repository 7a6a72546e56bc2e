"""How the !feeds commands name channels and feed text in their answers."""

from __future__ import annotations

from bot.markup import channel, clean_text
from bot.model import ChannelRef


def channel_label(ref: ChannelRef) -> str:
    """How to name a channel in a reply: a neutral reference each adapter renders."""
    return channel(ref.channel_id)


def clip(text: str, n: int = 80) -> str:
    """Feed names and titles come from feeds and servers: shown clean, and not too long."""
    text = clean_text(text)
    return text if len(text) <= n else text[: n - 1] + "…"
