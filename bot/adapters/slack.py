"""The Slack adapter: slack-bolt's AsyncApp in Socket Mode (default) or HTTP mode.

Socket Mode needs no public URL, which suits a forum run by volunteers; HTTP mode serves
the Events API, slash commands and interactivity on `[slack] http_host:http_port
http_path`, with every request's signature checked by bolt (401 otherwise).

Surfaces, all ending in the core dispatcher:
- `!rights ehcp` typed in a channel the bot is in (message events);
- slash commands: `/sendbot <command>` for everything, plus any `/name` the app manifest
  declares (`/rights`, `/timeline`, `/report`), read as `!name <text>`; each is ack()ed
  before the cog runs, so Slack's 3-second limit never depends on a cog;
- the "Report misinformation" message shortcut, which performs the `report_message` action.

The adapter is also the Slack Messenger for posts the bot starts itself (feeds, notices):
paced at about one message per second per channel, with 429 Retry-After honoured.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.base import Adapter, Answer, secret_text
from bot.adapters.slack_blocks import LINK_ACTION_ID, render, render_all
from bot.adapters.slack_checks import missing_token
from bot.adapters.slack_pacing import ChannelPacer, Clock, Sleep
from bot.adapters.slack_people import PLATFORM, SlackPeople, error_code
from bot.adapters.slack_text import from_slack_text
from bot.core import BotCore
from bot.dispatcher import Outcome
from bot.messenger import DeliveryError
from bot.model import Actor, ChannelRef, Incoming, Place, Reply, ReportedMessage

log = logging.getLogger(__name__)

# The catch-all slash command; others (/rights ...) are read as the command of their name.
CATCH_ALL_COMMAND = "sendbot"
# callback_id of the message shortcut in slack-manifest.json.
REPORT_SHORTCUT_ID = "report_misinformation"
# Message subtypes that are still a person typing (others: edits, joins, bot posts...).
_TYPED_SUBTYPES = {None, "thread_broadcast", "file_share"}
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
# A reply to a slash command in a channel the bot hasn't joined goes via response_url.
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "user_not_in_channel"}
MAX_RATE_LIMIT_RETRIES = 5
_SEEN_MESSAGES = 1000
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


class SlackConfigError(ValueError):
    """Slack is configured but cannot run (a token missing for the chosen mode)."""


class _DropClientTokenWarning(logging.Filter):
    # AsyncApp falls back to $SLACK_BOT_TOKEN when given a client, then warns that the
    # token is unused. We pass the client on purpose (it carries api_base_url).
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.sendbot")
    if not any(isinstance(f, _DropClientTokenWarning) for f in logger.filters):
        logger.addFilter(_DropClientTokenWarning())
    return logger


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


Respond = Callable[..., Awaitable[Any]]


class _SlackAnswer(Answer):
    """Answering a !command message, a slash command or the report shortcut.

    A private reply is an ephemeral message; where the bot is not in the channel, a slash
    command's response_url, else a direct message. Slack offers no public fallback for a
    private reply: a channel the bot cannot post ephemerally in, it cannot post in at all."""

    def __init__(
        self,
        adapter: SlackAdapter,
        channel: str,
        user: str,
        *,
        thread_ts: str | None = None,
        respond: Respond | None = None,
        trigger_ts: str | None = None,
    ) -> None:
        self.adapter = adapter
        self.channel = channel
        self.user = user
        self.thread_ts = thread_ts
        self.respond = respond
        self.trigger_ts = trigger_ts

    async def private(self, reply: Reply) -> bool:
        msgs = [m for m in render_all(reply) if not m.empty]
        if msgs:
            try:
                for msg in msgs:
                    await self.adapter._call(
                        self.channel,
                        functools.partial(
                            self.adapter.client.chat_postEphemeral,
                            channel=self.channel,
                            user=self.user,
                            text=msg.text,
                            blocks=msg.blocks or None,
                            thread_ts=self.thread_ts,
                        ),
                        paced=False,
                    )
            except DeliveryError as e:
                if not (isinstance(e, SlackDeliveryError) and e.code in _NOT_IN_CHANNEL):
                    raise
                if self.respond is None:
                    return False  # not in that channel: a direct message, files and all
                for msg in msgs:
                    await self.respond(text=msg.text, blocks=msg.blocks or None, response_type="ephemeral")
        if reply.files:
            # Ephemeral messages cannot carry files: they go to the person privately.
            dm = await self.adapter._open_dm(self.user)
            await self.adapter._upload(dm, reply, thread_ts=None)
        return True

    async def direct(self, reply: Reply) -> bool:
        await self.adapter.send_direct(self.adapter.team_id or "", self.user, reply)
        return True

    async def public(self, reply: Reply) -> None:
        try:
            await self.adapter._post(self.channel, reply, thread_ts=self.thread_ts)
        except DeliveryError as e:
            if self.respond is None or not (isinstance(e, SlackDeliveryError) and e.code in _NOT_IN_CHANNEL):
                raise
            for msg in render_all(reply):
                await self.respond(text=msg.text, blocks=msg.blocks or None, response_type="in_channel")

    async def remove_trigger(self) -> None:
        try:
            await self.adapter.delete(
                ChannelRef(PLATFORM, self.adapter.team_id or "", self.channel), self.trigger_ts or ""
            )
        except SlackDeliveryError as e:
            if e.code != "message_not_found":  # already gone counts as removed
                raise

    def why_kept(self, error: DeliveryError) -> str:
        if isinstance(error, SlackDeliveryError) and error.code == "cant_delete_message":
            # chat.delete with a bot token may remove only the bot's own posts.
            return "Slack lets an app remove only its own messages"
        return "Slack did not allow it just now"

    async def failure(self, reply: Reply) -> None:
        if self.respond is None:
            await super().failure(reply)
            return
        # A slash command or shortcut: its response_url reaches the person even where the
        # bot is not in the channel.
        msg = render(reply)
        await self.respond(text=msg.text, blocks=msg.blocks or None, response_type="ephemeral")


class SlackAdapter(Adapter):
    """Runs the bolt app and is the `slack` Messenger."""

    platform = PLATFORM
    can_edit = True

    def __init__(
        self,
        core: BotCore,
        *,
        post_interval: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        cfg = core.config.slack
        self.core = core
        self.mode = cfg.mode
        bot_token = secret_text(cfg.bot_token)
        self._app_token = secret_text(cfg.app_token)
        signing_secret = secret_text(cfg.signing_secret)
        # Checked when run() starts, not here, so a missing token stops the bot through
        # the app's normal shutdown (database closed, exit code 1) rather than mid-build.
        self._config_problem = missing_token(cfg)
        self.client = AsyncWebClient(token=bot_token, base_url=cfg.api_base_url, logger=log)
        self.app = AsyncApp(
            name="sendbot",
            client=self.client,
            signing_secret=signing_secret,
            # Socket Mode traffic arrives over the authenticated WebSocket; HTTP needs signatures.
            request_verification_enabled=self.mode == "http",
            logger=_bolt_logger(),
        )
        self.people = SlackPeople(
            self.client,
            moderator_user_ids=cfg.moderator_user_ids,
            moderator_usergroup=cfg.moderator_usergroup,
        )
        self.pacer = ChannelPacer(post_interval, clock=clock, sleep=sleep)
        self._sleep = sleep
        self.bot_user_id: str | None = None
        self.bot_id: str | None = None  # auth.test's bot_id: marks the messages this bot posted
        self.team_id: str | None = None
        self.http_port: int | None = None  # the bound port in HTTP mode (useful with port 0)
        self.ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        # Slack redelivers an event it thinks went unacknowledged (a slow network, a
        # reconnect); remembering recent messages keeps a command from running twice.
        self._seen_messages: OrderedDict[tuple[str, str], None] = OrderedDict()
        # Deliveries whose post failed in a way that may still have posted (a 5xx, a timeout).
        self._unsure: OrderedDict[str, None] = OrderedDict()
        self._register_listeners()
        core.register_messenger(self)

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Check the token, then serve (Socket Mode or HTTP) until close()."""
        if self._config_problem:
            raise SlackConfigError(self._config_problem)
        try:
            auth = await self.client.auth_test()
        except SlackApiError as e:
            raise SlackConfigError(f"Slack rejected the bot token ({error_code(e)}); check SLACK_BOT_TOKEN") from None
        self.bot_user_id = auth.get("user_id")
        self.bot_id = auth.get("bot_id")
        self.team_id = auth.get("team_id")
        log.info("slack: signed in as %s in team %s", self.bot_user_id, self.team_id)
        if self.mode == "http":
            await self._serve_http()
        else:
            await self._connect_socket()
        self.ready.set()
        self.core.platform_ready("slack")
        await self._stopped.wait()

    async def close(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _serve_http(self) -> None:
        cfg = self.core.config.slack
        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_post(cfg.http_path, self._handle_http)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, cfg.http_host, cfg.http_port)
        await site.start()
        self._runner = runner
        self.http_port = runner.addresses[0][1]
        log.info("slack: HTTP mode listening on http://%s:%d%s", cfg.http_host, self.http_port, cfg.http_path)

    async def _handle_http(self, request: web.Request) -> web.Response:
        # bolt reads the timestamp as a number before checking the signature: a malformed one
        # (from anyone on the internet) would be an HTTP 500 with a traceback in the log.
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return web.Response(status=401, text="invalid request")
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _connect_socket(self) -> None:
        # slack_sdk retries a refused app token for ever, logging each time; one direct
        # call first turns a wrong token into one clear error at start-up instead.
        try:
            await self.client.apps_connections_open(app_token=self._app_token)
        except SlackApiError as e:
            raise SlackConfigError(
                f"Slack rejected the app-level token ({error_code(e)}); check SLACK_APP_TOKEN"
            ) from None
        self._socket = AsyncSocketModeHandler(self.app, self._app_token, web_client=self.client)
        await self._socket.connect_async()
        log.info("slack: Socket Mode connected")

    # -- inbound ---------------------------------------------------------------------

    def _register_listeners(self) -> None:
        self.app.event("message")(self._on_message)
        self.app.command(re.compile(r"^/[\w.-]+$"))(self._on_command)
        self.app.message_shortcut(REPORT_SHORTCUT_ID)(self._on_report_shortcut)
        self.app.action(LINK_ACTION_ID)(self._on_link_click)

    async def _on_link_click(self, ack: Callable[..., Awaitable[Any]]) -> None:
        await ack()  # a URL button opens in the browser; Slack only wants the ack

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        if event.get("subtype") not in _TYPED_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        text = from_slack_text(event.get("text") or "").strip()
        if not self.core.dispatcher.is_command(text) or self._is_repeat(event):
            return
        channel = str(event.get("channel"))
        answer = _SlackAnswer(
            self, channel, str(event["user"]), thread_ts=event.get("thread_ts"), trigger_ts=event.get("ts")
        )
        try:
            team = context.team_id or body.get("team_id") or event.get("team") or ""
            author = await self.people.actor(event["user"])
            place = Place(PLATFORM, team, channel, channel, is_direct=event.get("channel_type") == "im")
            incoming = Incoming(
                text=text,
                author=author,
                place=place,
                message_id=event.get("ts"),
                thread_id=event.get("thread_ts"),
                surface="prefix",
                raw=event,
            )
            outcome = await self.core.dispatcher.handle(incoming)
            if outcome is not None:
                await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, f"a message command in {channel}")

    def _is_repeat(self, event: dict[str, Any]) -> bool:
        key = (str(event.get("channel")), str(event.get("ts")))
        if key in self._seen_messages:
            return True
        self._seen_messages[key] = None
        while len(self._seen_messages) > _SEEN_MESSAGES:
            self._seen_messages.popitem(last=False)
        return False

    async def _on_command(
        self, ack: Callable[..., Awaitable[Any]], command: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        await ack()  # first, always: Slack shows an error if this takes over 3 seconds
        answer = _SlackAnswer(
            self, str(command.get("channel_id", "")), str(command.get("user_id", "")), respond=respond
        )
        try:
            incoming = await self._slash_incoming(command)
            outcome = await self.core.dispatcher.handle(incoming)
            if outcome is None:
                hint = f"I don't know that command. Try `/{CATCH_ALL_COMMAND} help` or `{self.core.prefix}help`."
                outcome = Outcome([Reply(hint, ephemeral=True)], status="unknown")
            await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, str(command.get("command")))

    async def _slash_incoming(self, command: dict[str, Any]) -> Incoming:
        prefix = self.core.prefix
        name = str(command.get("command", "")).lstrip("/").lower()
        text = from_slack_text(str(command.get("text") or "")).strip()
        if name == CATCH_ALL_COMMAND:
            body = text[len(prefix) :] if text.startswith(prefix) else text
            body = body or "help"
        else:
            body = f"{name} {text}".strip()
        channel = str(command.get("channel_id", ""))
        channel_name = str(command.get("channel_name") or channel)
        place = Place(
            PLATFORM,
            str(command.get("team_id", "")),
            channel,
            channel_name,
            is_direct=channel_name == "directmessage" or channel.startswith("D"),
        )
        author = await self.people.actor(str(command.get("user_id", "")), command.get("user_name"))
        return Incoming(text=prefix + body, author=author, place=place, surface="slash", raw=command)

    async def _on_report_shortcut(
        self, ack: Callable[..., Awaitable[Any]], shortcut: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        await ack()
        chan = shortcut.get("channel") or {}
        channel = str(chan.get("id", ""))
        user = shortcut.get("user") or {}
        answer = _SlackAnswer(self, channel, str(user.get("id", "")), respond=respond)
        try:
            team = str((shortcut.get("team") or {}).get("id") or self.team_id or "")
            place = Place(PLATFORM, team, channel, str(chan.get("name") or channel), is_direct=channel.startswith("D"))
            reporter = await self.people.actor(str(user.get("id", "")), user.get("name"))
            message = shortcut.get("message") or {}
            ts = str(message.get("ts") or shortcut.get("message_ts") or "")
            if message.get("user"):
                author = await self.people.actor(str(message["user"]))
            else:  # a bot's or an app's message
                app_id = str(message.get("bot_id") or "unknown")
                author = Actor(PLATFORM, app_id, str(message.get("username") or "an app"))
            reported = ReportedMessage(
                text=from_slack_text(str(message.get("text") or "")),
                author=author,
                place=place,
                message_id=ts,
                link=await self._permalink(channel, ts),
            )
            incoming = Incoming(text="", author=reporter, place=place, message_id=ts, surface="action", raw=shortcut)
            outcome = await self.core.dispatcher.perform("report_message", incoming, message=reported)
            await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, "the report shortcut")

    async def _permalink(self, channel: str, ts: str) -> str | None:
        if not channel or not ts:
            return None
        try:
            resp = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return resp.get("permalink")
        except (SlackApiError, ClientError, TimeoutError) as e:
            log.info("slack: no permalink for a reported message: %s", type(e).__name__)
            return None

    # -- Messenger -------------------------------------------------------------------

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
            ts = await self._post(channel.channel_id, reply, metadata=metadata, posted=posted)
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

    async def _call(self, channel: str, call: Callable[[], Awaitable[Any]], *, paced: bool = True) -> Any:
        """One Web API call: paced per channel, retried after a 429's Retry-After, with
        every failure turned into a DeliveryError saying whether a retry could help."""
        last_wait = 0.0
        for _attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                if paced:
                    async with self.pacer.slot(channel):
                        return await call()
                return await call()
            except SlackApiError as e:
                if e.response.status_code == 429:
                    last_wait = _retry_after(e)
                    log.info("slack: rate limited in %s; retrying after %.1fs", channel, last_wait)
                    if paced:
                        self.pacer.hold(channel, last_wait)
                    else:
                        await self._sleep(last_wait)
                    continue
                raise SlackDeliveryError(error_code(e)) from None
            except (ClientError, TimeoutError) as e:
                raise DeliveryError(f"could not reach Slack ({type(e).__name__})", permanent=False) from None
        raise DeliveryError("Slack kept rate limiting this channel", permanent=False, retry_after=last_wait)


def build(core: BotCore) -> SlackAdapter:
    return SlackAdapter(core)
