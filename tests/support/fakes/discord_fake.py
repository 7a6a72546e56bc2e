"""A loopback fake of Discord's REST API and gateway, for running real discord.py in tests.

    fake = await FakeDiscord.start()
    # point discord.py at fake.api_base_url / fake.gateway_url (the adapter does, from config)
    await fake.wait_identified()
    await fake.push("MESSAGE_CREATE", fake.message_payload("!help", author=fake.member_user))
    call = await fake.wait_for_call("POST", r"/channels/\\d+/messages")

It speaks just enough of the protocol for discord.py 2.x: HELLO, IDENTIFY -> READY +
GUILD_CREATE, heartbeat ACKs, dispatches pushed by the test, and the REST routes the bot
uses. Every REST call is recorded with its decoded body; tests wait on a Condition that is
notified on every record, never on sleeps. JSON answers carry Content-Type exactly
"application/json", which discord.py insists on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")

API_PREFIX = "/api/v10"
APP_ID = 900000000000000001
BOT_ID = APP_ID
GUILD_ID = 100000000000000001
CHANNEL_ID = 200000000000000001
OTHER_CHANNEL_ID = 200000000000000002
THREAD_ID = 200000000000000003  # a public thread in #general
MOD_ROLE_ID = 300000000000000001  # "Moderators": has Manage Messages
HELPER_ROLE_ID = 300000000000000002  # "Forum helpers": no permissions (config names it)
ALERT_ROLE_ID = 300000000000000003  # "Feed alerts": a role a feed may ping
MEMBER_ID = 400000000000000001
MOD_ID = 400000000000000002
HELPER_ID = 400000000000000003
OTHER_BOT_ID = 400000000000000004

MESSAGE_CONTENT_INTENT = 1 << 15
# View channel, send messages, read history, embed links, attach files, use app commands.
EVERYONE_PERMS = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 14) | (1 << 15) | (1 << 31)
MANAGE_MESSAGES = 1 << 13
TIMESTAMP = "2026-11-27T12:00:00.000000+00:00"


def user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "global_name": name, "discriminator": "0", "avatar": None, "bot": bot}


@dataclass
class Call:
    """One REST request as the fake saw it."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    status: int = 200
    at: float = 0.0
    authorization: str | None = None


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeDiscord:
    wait_seconds = 10.0

    def __init__(
        self,
        *,
        grant_message_content: bool = True,
        nonce_window: float = 300.0,
        post_delay: float = 0.0,
        global_rate: int | None = None,
        route_limit: tuple[int, float] | None = None,
        rtt: float = 0.0,
    ) -> None:
        """Limits, all off by default: `global_rate` requests in any one second per bot token
        (Discord's global limit is 50; interactions and webhooks are not counted), answered
        beyond with a global 429 as Discord words it; `route_limit` (count, seconds) for each
        channel's message POSTs, announced in X-RateLimit-* headers as Discord does (5 per 5 s)
        and answered with a 429 beyond. `rtt`: seconds each REST answer takes (the limits
        are judged when the request arrives). `http_429` counts the 429s given."""
        self.grant_message_content = grant_message_content
        self.global_rate = global_rate
        self.route_limit = route_limit
        self.rtt = rtt
        self.http_429 = 0
        self.limited: list[tuple[str, str]] = []  # (global | route, path) of each 429 given
        self._global_window: deque[float] = deque()
        self._route_windows: dict[int, tuple[float, int]] = {}  # channel -> (window start, used)
        # Seconds a message POST takes to answer (the message exists from the start), so a
        # crash test can stop the bot while a post is in flight.
        self.post_delay = post_delay
        # Discord honours an enforced nonce for a few minutes only: a retry later than this
        # posts again (which is why the bot retries unsure deliveries first thing at start).
        self.nonce_window = nonce_window
        self.calls: list[Call] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeats = 0
        self._ready_count = 0
        self.messages: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._failures: list[_Failure] = []
        self._ids = itertools.count(500000000000000001)
        self._seq = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._shards: dict[web.WebSocketResponse, tuple[int, int]] = {}  # session -> [id, count]
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.bot_user = user(BOT_ID, "sendbot", bot=True)
        # Servers besides GUILD_ID (add_guild), and who is a member of each (GET .../members/<id>).
        self.extra_guilds: dict[int, str] = {}
        self.guild_members: dict[int, set[int]] = {GUILD_ID: {MEMBER_ID, MOD_ID, HELPER_ID, BOT_ID}}
        self.member_user = user(MEMBER_ID, "Parent")
        self.mod_user = user(MOD_ID, "Mod")
        self.helper_user = user(HELPER_ID, "Helper")
        self.roles = {
            MOD_ID: [str(MOD_ROLE_ID)],
            HELPER_ID: [str(HELPER_ROLE_ID)],
            MEMBER_ID: [],
        }
        for cid, name in ((CHANNEL_ID, "general"), (OTHER_CHANNEL_ID, "news")):
            self.channels[cid] = {
                "id": str(cid),
                "type": 0,
                "name": name,
                "guild_id": str(GUILD_ID),
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }

        # Threads arrive in GUILD_CREATE's "threads", not "channels".
        self.threads: dict[int, dict[str, Any]] = {
            THREAD_ID: {
                "id": str(THREAD_ID),
                "type": 11,
                "name": "help with an annual review",
                "guild_id": str(GUILD_ID),
                "parent_id": str(CHANNEL_ID),
                "owner_id": str(MEMBER_ID),
                "message_count": 1,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": TIMESTAMP,
                    "locked": False,
                },
            }
        }

    def add_guild(self, gid: int, name: str, members: set[int]) -> None:
        """Another server the bot is in (before the bot connects), with these members."""
        self.extra_guilds[gid] = name
        self.guild_members[gid] = set(members)

    def add_text_channel(self, cid: int, name: str) -> None:
        """Another text channel in the guild (a feed can post to several)."""
        self.channels[cid] = {**self.channels[CHANNEL_ID], "id": str(cid), "name": name}

    def channel_messages(self, cid: int) -> list[dict[str, Any]]:
        """Messages now visible in a channel, oldest first."""
        return [m for m in self.messages.values() if m.get("channel_id") == str(cid)]

    # -- lifecycle -------------------------------------------------------------------

    @classmethod
    async def start(cls, **kwargs: Any) -> FakeDiscord:
        fake = cls(**kwargs)
        app = web.Application()
        app.router.add_get("/gateway", fake._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", fake._rest)
        fake._runner = web.AppRunner(app, handle_signals=False)
        await fake._runner.setup()
        site = web.TCPSite(fake._runner, "127.0.0.1", 0)
        await site.start()
        fake.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return fake

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- waiting ---------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_until(self, predicate: Callable[[], T | None]) -> T:
        """Wait until predicate() is truthy (re-checked on every recorded event); a test
        that waits in vain fails after `wait_seconds` instead of hanging."""
        async with asyncio.timeout(self.wait_seconds), self._cond:
            result = await self._cond.wait_for(predicate)
            assert result is not None  # wait_for returns only once the predicate is truthy
            return result

    def find_calls(self, method: str, path_re: str) -> list[Call]:
        pattern = re.compile(path_re + "$")
        return [c for c in self.calls if c.method == method and pattern.match(c.path)]

    async def wait_for_call(
        self, method: str, path_re: str, *, count: int = 1, where: Callable[[Call], bool] | None = None
    ) -> Call:
        """The count-th matching successful call (waits until it has been made)."""

        def found() -> Call | None:
            hits = [c for c in self.find_calls(method, path_re) if c.status < 300 and (where is None or where(c))]
            return hits[count - 1] if len(hits) >= count else None

        return await self.wait_until(found)

    async def wait_identified(self, count: int = 1) -> dict[str, Any]:
        """The count-th IDENTIFY that was answered with READY."""
        await self.wait_until(lambda: self._ready_count >= count)
        return self.identifies[count - 1]

    # -- scripting -------------------------------------------------------------------

    def fail_next(self, method: str, path_re: str, status: int, body: dict[str, Any], **headers: str) -> None:
        self._failures.append(_Failure(method, re.compile(path_re + "$"), status, body, headers))

    def rate_limit_next(self, method: str, path_re: str, retry_after: float) -> None:
        # discord.py treats a 429 without a Via header as a Cloudflare ban, as Discord's own
        # responses carry one.
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        self.fail_next(method, path_re, 429, body, Via="1.1 google", **{"X-RateLimit-Scope": "user"})

    def member_payload(self, u: dict[str, Any]) -> dict[str, Any]:
        return {
            "roles": self.roles.get(int(u["id"]), []),
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def message_payload(
        self,
        content: str,
        *,
        author: dict[str, Any],
        channel_id: int = CHANNEL_ID,
        guild: bool = True,
        embeds: list[dict[str, Any]] | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(message_id or next(self._ids)),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": embeds or [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild:
            data["guild_id"] = str(GUILD_ID)
            data["member"] = self.member_payload(author)
        return data

    def interaction_payload(
        self,
        data: dict[str, Any],
        *,
        by: dict[str, Any],
        itype: int = 2,
        channel_id: int = CHANNEL_ID,
    ) -> dict[str, Any]:
        roles = self.roles.get(int(by["id"]), [])
        perms = EVERYONE_PERMS | (MANAGE_MESSAGES if str(MOD_ROLE_ID) in roles else 0)
        member = {**self.member_payload(by), "user": by, "permissions": str(perms)}
        if channel_id not in self.channels or self.channels[channel_id].get("type") == 1:
            # A direct message: no server, a user instead of a member.
            dm = {"id": str(channel_id), "type": 1, "recipients": [by]}
            return {
                "id": str(next(self._ids)),
                "application_id": str(APP_ID),
                "type": itype,
                "token": f"itoken-{next(self._ids)}",
                "version": 1,
                "channel_id": str(channel_id),
                "channel": dm,
                "user": by,
                "data": data,
                "app_permissions": str(EVERYONE_PERMS),
                "locale": "en-GB",
                "entitlements": [],
                "authorizing_integration_owners": {"1": by["id"]},
                "context": 1,
                "attachment_size_limit": 10 * 1024 * 1024,
            }
        return {
            "id": str(next(self._ids)),
            "application_id": str(APP_ID),
            "type": itype,
            "token": f"itoken-{next(self._ids)}",
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": str(channel_id),
            "channel": self.channels[channel_id],
            "member": member,
            "data": data,
            "app_permissions": str(EVERYONE_PERMS | MANAGE_MESSAGES),
            "locale": "en-GB",
            "guild_locale": "en-GB",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def on_shard(self, guild_id: int, ws: web.WebSocketResponse) -> bool:
        """Does this session receive the server's events? As Discord routes them: shard
        (guild_id >> 22) % shard_count; a session identified without a shard gets all."""
        shard = self._shards.get(ws)
        return shard is None or (guild_id >> 22) % shard[1] == shard[0]

    async def push(self, event: str, data: dict[str, Any]) -> None:
        """Send a dispatch event to every connected gateway session (a server's event only
        to the session whose shard has that server)."""
        assert self._sockets, "no gateway session is connected"
        guild = data.get("guild_id")
        for ws in self._sockets:
            if not ws.closed and (guild is None or self.on_shard(int(guild), ws)):
                await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    async def request_reconnect(self) -> None:
        """Op 7 RECONNECT, as Discord sends when it moves a session: the client should
        reconnect and RESUME the same session rather than identify again."""
        assert self._sockets, "no gateway session is connected"
        for ws in list(self._sockets):
            await ws.send_str(json.dumps({"op": 7, "d": None}))

    async def wait_resumed(self, count: int = 1) -> dict[str, Any]:
        await self.wait_until(lambda: len(self.resumes) >= count and any(not ws.closed for ws in self._sockets))
        return self.resumes[count - 1]

    # -- gateway ---------------------------------------------------------------------

    def _guild(self) -> dict[str, Any]:
        role = {
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": False,
            "mentionable": True,
            "color": 0,
            "flags": 0,
        }
        return {
            "id": str(GUILD_ID),
            "name": "Test parent carer forum",
            "icon": None,
            "owner_id": str(OTHER_BOT_ID),
            "roles": [
                {**role, "id": str(GUILD_ID), "name": "@everyone", "permissions": str(EVERYONE_PERMS), "position": 0},
                {
                    **role,
                    "id": str(MOD_ROLE_ID),
                    "name": "Moderators",
                    "permissions": str(MANAGE_MESSAGES),
                    "position": 3,
                },
                {**role, "id": str(HELPER_ROLE_ID), "name": "Forum helpers", "permissions": "0", "position": 2},
                {**role, "id": str(ALERT_ROLE_ID), "name": "Feed alerts", "permissions": "0", "position": 1},
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "member_count": 4,
            "members": [{**self.member_payload(self.bot_user), "user": self.bot_user}],
            "channels": list(self.channels.values()),
            "threads": list(self.threads.values()),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "unavailable": False,
            "joined_at": TIMESTAMP,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-GB",
            "afk_timeout": 300,
        }

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._identify(ws, payload["d"])
                elif op == 6:
                    # RESUME: Discord replays what was missed (nothing here), then RESUMED.
                    self.resumes.append(payload["d"])
                    await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}}))
                await self._notify()
        finally:
            self._sockets.remove(ws)
            self._shards.pop(ws, None)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("intents", 0) & MESSAGE_CONTENT_INTENT and not self.grant_message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        if shard := data.get("shard"):
            self._shards[ws] = (int(shard[0]), int(shard[1]))
        guilds = [g for g in (GUILD_ID, *self.extra_guilds) if self.on_shard(g, ws)]
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": f"session-{len(self.identifies)}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if ws in self._shards:
            ready["shard"] = list(self._shards[ws])  # a sharded client reads which shard is ready
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        if GUILD_ID in guilds:
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": self._guild()}))
        for gid, name in self.extra_guilds.items():
            if gid not in guilds:
                continue
            base = self._guild()
            everyone = {**base["roles"][0], "id": str(gid)}
            other = {**base, "id": str(gid), "name": name, "roles": [everyone], "channels": [], "threads": []}
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": other}))
        self._ready_count += 1

    # -- REST ------------------------------------------------------------------------

    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(
            body=json.dumps(data).encode(),
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    async def _decode(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            body: Any = None
            files: list[tuple[str, bytes]] = []
            reader = await request.multipart()
            async for part in reader:
                raw = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(raw)
                else:
                    files.append((part.filename or "", bytes(raw)))  # type: ignore[union-attr]
            return body, files
        text = await request.text()
        return (json.loads(text) if text else None), []

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        arrived = time.monotonic()  # limits are judged by when a request arrived, before its body is read
        body, files = await self._decode(request)
        call = Call(
            request.method,
            path,
            dict(request.query),
            body,
            files,
            at=asyncio.get_running_loop().time(),
            authorization=request.headers.get("Authorization"),
        )
        self.calls.append(call)
        try:
            limited = self._rate_limited(request.method, path, arrived)
            if self.rtt:
                await asyncio.sleep(self.rtt)
            if limited is not None:
                self.http_429 += 1
                call.status = 429
                return self._json(limited[0], 429, limited[1])
            for failure in self._failures:
                if failure.method == request.method and failure.pattern.match(path):
                    self._failures.remove(failure)
                    call.status = failure.status
                    return self._json(failure.body, failure.status, failure.headers)
            status, data = self._route(request.method, path, body or {}, files)
            if self.post_delay and request.method == "POST" and re.fullmatch(r"/channels/\d+/messages", path):
                await asyncio.sleep(self.post_delay)
            call.status = status
            if status == 204:
                return web.Response(status=204)
            return self._json(data, status, self._route_headers(request.method, path))
        finally:
            await self._notify()

    # -- rate limits (off unless asked for) ------------------------------------------

    def _rate_limited(self, method: str, path: str, now: float) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The 429 (body, headers) Discord would answer to a request that arrived at `now`
        (time.monotonic), or None; counts the request."""
        counted = not path.startswith(("/interactions/", "/webhooks/"))
        if self.global_rate is not None and counted:
            window = self._global_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.global_rate:
                retry = window[0] + 1.0 - now
                body = {"message": "You are being rate limited.", "retry_after": round(retry, 3), "global": True}
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(math.ceil(retry)),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                }
                self.limited.append(("global", path))
                return body, headers
        cid = self._message_route(method, path)
        if self.route_limit is not None and cid is not None:
            count, period = self.route_limit
            start, used = self._route_windows.get(cid, (now, 0))
            if now - start >= period:
                start, used = now, 0
            if used >= count:
                retry = start + period - now
                body = {"message": "You are being rate limited.", "retry_after": round(retry, 3), "global": False}
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(math.ceil(retry)),
                    "X-RateLimit-Scope": "user",
                    **self._bucket_headers(count, 0, retry),
                }
                self.limited.append(("route", path))
                return body, headers
            self._route_windows[cid] = (start, used + 1)
        if self.global_rate is not None and counted:
            self._global_window.append(now)
        return None

    @staticmethod
    def _message_route(method: str, path: str) -> int | None:
        m = re.fullmatch(r"/channels/(\d+)/messages", path) if method == "POST" else None
        return int(m.group(1)) if m else None

    @staticmethod
    def _bucket_headers(limit: int, remaining: int, reset_after: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fake-channel-messages",
        }

    def _route_headers(self, method: str, path: str) -> dict[str, str] | None:
        cid = self._message_route(method, path)
        if self.route_limit is None or cid is None or cid not in self._route_windows:
            return None
        count, period = self.route_limit
        start, used = self._route_windows[cid]
        return self._bucket_headers(count, max(0, count - used), max(0.0, start + period - time.monotonic()))

    def _route(self, method: str, path: str, body: Any, files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        unknown = (404, {"message": "Unknown route", "code": 0})
        payload = body.get("data") if path.endswith("/callback") else body
        if method in ("POST", "PATCH") and isinstance(payload, dict) and (errors := _message_errors(payload)):
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        if method == "GET" and path == "/users/@me":
            return 200, self.bot_user
        if method == "GET" and path == "/oauth2/applications/@me":
            return 200, {
                "id": str(APP_ID),
                "name": "sendbot",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user(OTHER_BOT_ID, "owner"),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
            }
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            limits = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limits}
        if method == "PUT" and (m := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path)):
            errors = [e for cmd in body for e in _command_errors(cmd)]
            if errors:
                return 400, {"message": "Invalid Form Body", "code": 50035, "errors": errors}
            out = []
            for cmd in body:
                out.append(
                    {"description": "", **cmd, "id": str(next(self._ids)), "application_id": m.group(1), "version": "1"}
                )
                if m.group(2):
                    out[-1]["guild_id"] = m.group(2)
            return 200, out
        if method == "GET" and (m := re.fullmatch(r"/guilds/(\d+)/members/(\d+)", path)):
            uid = int(m.group(2))
            if uid not in self.guild_members.get(int(m.group(1)), set()):
                return 404, {"message": "Unknown Member", "code": 10007}
            return 200, {**self.member_payload({"id": str(uid)}), "user": user(uid, f"user{uid}")}
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            if method != "POST":
                return unknown
            cid = int(m.group(1))
            if cid not in self.channels and cid not in self.threads:
                return 404, {"message": "Unknown Channel", "code": 10003}
            nonce = body.get("nonce")
            seen = self._nonces.get((cid, str(nonce))) if nonce is not None else None
            if seen is not None and body.get("enforce_nonce") and time.monotonic() - seen[1] <= self.nonce_window:
                # Discord's nonce enforcement: the earlier message comes back, none is made.
                return 200, self.messages[seen[0]]
            msg = self._store(cid, body, files)
            if nonce is not None:
                self._nonces[(cid, str(nonce))] = (int(msg["id"]), time.monotonic())
            return 200, msg
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            mid = int(m.group(2))
            if mid not in self.messages:
                return 404, {"message": "Unknown Message", "code": 10008}
            if method == "PATCH":
                self.messages[mid].update(self._message_fields(body, files))
                self.messages[mid]["edited_timestamp"] = TIMESTAMP
                return 200, self.messages[mid]
            if method == "DELETE":
                del self.messages[mid]
                return 204, None
            return unknown
        if method == "POST" and path == "/users/@me/channels":
            cid = next(self._ids)
            recipient = user(int(body["recipient_id"]), "someone")
            self.channels[cid] = {"id": str(cid), "type": 1, "recipients": [recipient], "last_message_id": None}
            return 200, self.channels[cid]
        if method == "POST" and (m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)):
            rtype = body.get("type")
            data = body.get("data") or {}
            result: dict[str, Any] = {
                "interaction": {
                    "id": m.group(1),
                    "type": 2,
                    "response_message_loading": rtype == 5,
                    "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                }
            }
            if rtype in (4, 5):
                msg = self._store(CHANNEL_ID, data, files)
                result["interaction"]["response_message_id"] = msg["id"]
                result["resource"] = {"type": rtype, "message": msg}
            return 200, result
        if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", path):
            if method == "POST" and not m.group(3):
                return 200, self._store(CHANNEL_ID, body, files)
            if method == "PATCH" and m.group(3):
                return 200, self._store(CHANNEL_ID, body, files)
            if method == "DELETE" and m.group(3):
                return 204, None
        return unknown

    @staticmethod
    def _message_fields(body: dict[str, Any], files: list[tuple[str, bytes]]) -> dict[str, Any]:
        attachments = [
            {"id": str(i), "filename": name, "size": len(data), "url": f"https://cdn.invalid/{name}", "proxy_url": ""}
            for i, (name, data) in enumerate(files)
        ]
        return {"content": body.get("content") or "", "embeds": body.get("embeds") or [], "attachments": attachments}

    def _store(self, cid: int, body: dict[str, Any], files: list[tuple[str, bytes]]) -> dict[str, Any]:
        guild = self.channels.get(cid, {}).get("type") == 0 or cid in self.threads
        msg = self.message_payload("", author=self.bot_user, channel_id=cid, guild=guild)
        msg.update(self._message_fields(body, files))
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        self.messages[int(msg["id"])] = msg
        return msg


_NAME = re.compile(r"^[-_\w]{1,32}$")


def _command_errors(cmd: dict[str, Any]) -> list[str]:
    """The checks Discord applies to a command registration, so a sync the real API would
    refuse fails here too."""
    errors: list[str] = []
    name = cmd.get("name", "")
    chat_input = cmd.get("type", 1) == 1
    if chat_input and (not _NAME.match(name) or name.lower() != name):
        errors.append(f"bad name {name!r}")
    if not chat_input and not 1 <= len(name) <= 32:
        errors.append(f"bad menu name {name!r}")
    if chat_input and not 1 <= len(cmd.get("description", "")) <= 100:
        errors.append(f"{name}: description must be 1-100 characters")
    options = cmd.get("options") or []
    if len(options) > 25:
        errors.append(f"{name}: more than 25 options")
    seen_optional = False
    for option in options:
        if option.get("type") in (1, 2):
            errors += _command_errors({**option, "type": 1})
            continue
        errors += [e for e in _command_errors({**option, "type": 1, "options": []}) if "options" not in e]
        if option.get("required"):
            if seen_optional:
                errors.append(f"{name}: required option {option['name']!r} after an optional one")
        else:
            seen_optional = True
        if len(option.get("choices") or []) > 25:
            errors.append(f"{name}: more than 25 choices")
        if option.get("choices") and option.get("autocomplete"):
            errors.append(f"{name}: choices and autocomplete together")
    return errors


def _message_errors(body: dict[str, Any]) -> list[str]:
    """Discord's size limits on a message, so an over-long render fails here as it would there."""
    errors = []
    if len(body.get("content") or "") > 2000:
        errors.append("content longer than 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors.append("more than 10 embeds")
    for e in embeds:
        fields = e.get("fields") or []
        total = len(e.get("title") or "") + len(e.get("description") or "")
        total += len((e.get("footer") or {}).get("text") or "")
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
        if len(e.get("title") or "") > 256 or len(e.get("description") or "") > 4096 or total > 6000:
            errors.append("embed too large")
        if len(fields) > 25 or any(not f["name"] or not f["value"] or len(f["value"]) > 1024 for f in fields):
            errors.append("bad embed fields")
    return errors
