"""A stored subscription's or delivery's channel, as the bot's `ChannelRef`.

Storage keeps a channel as three plain values (it imports nothing of ours); messengers
take, and the !feeds commands compare, `bot.model.ChannelRef`. This is where one becomes
the other.
"""

from __future__ import annotations

from bot.model import ChannelRef
from storage.feeds import ChannelLike


def channel_of(row: ChannelLike) -> ChannelRef:
    return ChannelRef(row.platform, row.scope_id, row.channel_id)
