"""The Slack `Messenger` and every Web API call the adapter makes.

Posts the bot starts itself (feeds, notices) are paced at about one message per second per
channel (pacing.py) and to `[slack] workspace_posts_per_second` across the workspace
(bot/adapters/pacing.py), so a fan-out to many channels meets no 429; one that comes anyway
holds the channel and the workspace for its Retry-After; every failure becomes a
`DeliveryError` saying whether a retry could help. A feed post carries its delivery nonce as
message metadata, so a retry after an unclear failure (a 5xx, a timeout) finds the post Slack
already made instead of making it again: Slack has no idempotency key.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.base import Adapter
from bot.adapters.pacing import Pacer
from bot.adapters.slack.blocks import render, render_all
from bot.adapters.slack.pacing import ChannelPacer, Sleep
from bot.adapters.slack.people import error_code
from bot.messenger import DeliveryError
from bot.model import ChannelRef, Reply

log = logging.getLogger(__name__)

# Errors for which retrying the same call cannot help.
_PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "restricted_action",
    "message_not_found",
    "cant_update_message",
    "cant_delete_message",
    "edit_window_closed",
    "user_not_found",
    "user_not_in_channel",
    "team_access_not_granted",
    "ekm_access_denied",
}
MAX_RATE_LIMIT_RETRIES = 5
# Feed posts carry their delivery nonce as message metadata, so that a retry after a lost
# answer can find the post Slack already made (Slack has no idempotency key).
DELIVERY_EVENT = "sendbot_delivery"
_HISTORY_LOOKBACK = 50
_UNSURE_DELIVERIES = 1000


class SlackDeliveryError(DeliveryError):
    """A DeliveryError that keeps Slack's error code (not_in_channel, ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Slack said {code}", permanent=code in _PERMANENT_ERRORS)
        self.code = code


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value if isinstance(value, str) else (value[0] if value else None)
    return None


def _retry_after(e: SlackApiError) -> float:
    raw = _header(getattr(e.response, "headers", None), "Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else 1.0
    except ValueError:
        return 1.0


class SlackMessenger(Adapter):
    """The Messenger half of `SlackAdapter` (app.py), which sets the state below."""

    client: AsyncWebClient
    pacer: ChannelPacer
    workspace: Pacer | None  # the workspace-wide posting rate (None: unpaced)
    _sleep: Sleep
    bot_id: str | None  # auth.test's bot_id: marks the messages this bot posted
    team_id: str | None
    # Deliveries whose post failed in a way that may still have posted (a 5xx, a timeout).
    _unsure: OrderedDict[str, None]

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        """Post by channel id. With a nonce, the first message carries it as metadata; if an
        earlier try with that nonce failed without a clear answer (in this process, or before a
        restart: `unsure`), the channel's recent history is checked first so a post Slack did
        make is returned, not made again."""
        if nonce and (unsure or nonce in self._unsure):
            found = await self._find_delivery(channel.channel_id, nonce)
            if found:
                self._unsure.pop(nonce, None)
                return found
        metadata = {"event_type": DELIVERY_EVENT, "event_payload": {"nonce": nonce}} if nonce else None
        posted: list[str] = []
        try:
            ts = await self._post_with_picture(channel.channel_id, reply, metadata, posted)
        except DeliveryError as e:
            # Only an unclear failure of the first message may have made the post silently.
            # Once the first is confirmed, a later part failing means the rest never went
            # out: finding the first in history would return a post missing that rest.
            if nonce and not e.permanent and not posted:
                self._unsure[nonce] = None
                while len(self._unsure) > _UNSURE_DELIVERIES:
                    self._unsure.popitem(last=False)
            raise
        if nonce:
            self._unsure.pop(nonce, None)
        return ts

    async def _post_with_picture(
        self, channel: str, reply: Reply, metadata: dict[str, Any] | None, posted: list[str]
    ) -> str:
        """Slack refuses the whole message (invalid_blocks) when it cannot fetch a card's
        picture (gone, not an image, too big): then the post goes without the picture."""
        try:
            return await self._post(channel, reply, metadata=metadata, posted=posted)
        except SlackDeliveryError as e:
            card = reply.card
            if e.code != "invalid_blocks" or card is None or not card.image_url or posted:
                raise
            log.info("slack: the picture of a post to %s was refused; posting it without the picture", channel)
            bare = dataclasses.replace(reply, card=dataclasses.replace(card, image_url=None))
            return await self._post(channel, bare, metadata=metadata, posted=posted)

    async def _find_delivery(self, channel: str, nonce: str) -> str | None:
        try:
            resp = await self._call(
                channel,
                lambda: self.client.conversations_history(
                    channel=channel, limit=_HISTORY_LOOKBACK, include_all_metadata=True
                ),
                paced=False,
            )
        except DeliveryError as e:
            log.info("slack: could not check %s for an earlier post of a delivery: %s", channel, e)
            return None
        for message in resp.get("messages") or []:
            if self.bot_id and message.get("bot_id") != self.bot_id:
                continue  # another app's post (another sendbot, say) may carry the same nonce
            meta = message.get("metadata") or {}
            if meta.get("event_type") == DELIVERY_EVENT and (meta.get("event_payload") or {}).get("nonce") == nonce:
                log.info("slack: delivery already posted in %s; not posting it again", channel)
                return str(message.get("ts") or "") or None
        return None

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        msg = render(reply)
        await self._call(
            channel.channel_id,
            lambda: self.client.chat_update(
                channel=channel.channel_id, ts=message_id, text=msg.text, blocks=msg.blocks, link_names=False
            ),
        )

    async def settle_choices(self, channel_id: str, ts: str, *, text: str, blocks: list[dict[str, Any]]) -> None:
        """Replace a message's buttons once one was pressed (blocks.settled_blocks)."""
        await self._call(
            channel_id,
            lambda: self.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks, link_names=False),
        )

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        await self._call(
            channel.channel_id, lambda: self.client.chat_delete(channel=channel.channel_id, ts=message_id), paced=False
        )

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        return await self._post(await self._open_dm(user_id), reply)

    async def _open_dm(self, user_id: str) -> str:
        resp = await self._call(user_id, lambda: self.client.conversations_open(users=user_id), paced=False)
        return str((resp.get("channel") or {}).get("id", ""))

    async def _post(
        self,
        channel: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        posted: list[str] | None = None,
    ) -> str:
        ts = ""
        # A reply too long for one message goes out as several; the first is "the" post
        # (the one a feed later updates).
        for msg in render_all(reply):
            if msg.empty:
                continue
            resp = await self._call(
                channel,
                functools.partial(
                    self.client.chat_postMessage,
                    channel=channel,
                    text=msg.text,
                    blocks=msg.blocks or None,
                    thread_ts=thread_ts,
                    link_names=False,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=None if ts else metadata,  # only the first message carries the nonce
                ),
                may_give_up=not ts,
            )
            ts = ts or str(resp.get("ts") or "")
            if posted is not None and ts and not posted:
                posted.append(ts)
        if reply.files:
            file_ts = await self._upload(channel, reply, thread_ts=thread_ts)
            ts = ts or file_ts
        return ts

    async def _upload(self, channel: str, reply: Reply, *, thread_ts: str | None) -> str:
        uploads = [{"content": f.content, "filename": f.filename, "title": f.filename} for f in reply.files]
        await self._call(
            channel,
            lambda: self.client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts),
        )
        return ""

    # -- bot.messenger.RoleDirectory: a workspace's user groups, for `!settings` ----------

    async def _usergroups(self, scope_id: str) -> list[dict[str, Any]]:
        """The workspace's user groups (usergroups.list; the usergroups:read scope the
        moderator check already needs). Raises when Slack could not be asked."""
        resp = await self.client.usergroups_list()
        return [g for g in resp.get("usergroups") or [] if isinstance(g, dict)]

    async def role_name(self, scope_id: str, role_id: str) -> str | None:
        for group in await self._usergroups(scope_id):
            if group.get("id") == role_id:
                return f"@{group.get('handle') or group.get('name') or role_id}"
        return None

    async def find_role(self, scope_id: str, name: str) -> str | None:
        """A user group by its handle (what Slack shows as @handle) or its name."""
        wanted = name.lower()
        found = [
            str(g["id"])
            for g in await self._usergroups(scope_id)
            if g.get("id") and wanted in (str(g.get("handle") or "").lower(), str(g.get("name") or "").lower())
        ]
        return found[0] if len(found) == 1 else None

    async def _call(
        self, channel: str, call: Callable[[], Awaitable[Any]], *, paced: bool = True, may_give_up: bool = True
    ) -> Any:
        """One Web API call: paced per channel, retried after a 429's Retry-After, with
        every failure turned into a DeliveryError saying whether a retry could help."""
        last_wait = 0.0
        for _attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                if paced:
                    async with self.pacer.slot(channel):
                        if self.workspace is not None:
                            await self.workspace.acquire(may_give_up=may_give_up)
                        return await call()
                return await call()
            except SlackApiError as e:
                if e.response.status_code == 429:
                    self.core.metrics.rate_limited.labels("slack").inc()
                    last_wait = _retry_after(e)
                    log.info("slack: rate limited in %s; retrying after %.1fs", channel, last_wait)
                    if paced:
                        # Which limit was hit cannot be told: the channel's or the workspace's.
                        self.pacer.hold(channel, last_wait)
                        if self.workspace is not None:
                            self.workspace.hold(last_wait)
                    else:
                        await self._sleep(last_wait)
                    continue
                raise SlackDeliveryError(error_code(e)) from None
            except (ClientError, TimeoutError) as e:
                raise DeliveryError(f"could not reach Slack ({type(e).__name__})", permanent=False) from None
        raise DeliveryError("Slack kept rate limiting this channel", permanent=False, retry_after=last_wait)
