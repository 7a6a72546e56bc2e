"""A loopback fake of Slack: the Web API, Socket Mode's WebSocket, and response_url.

The real slack_sdk AsyncWebClient is pointed at `fake.base_url`; every call is recorded
with its arguments (JSON or form bodies, decoded), and tests wait for calls with
`await fake.wait_for("chat.postMessage")` rather than sleeping. Responses can be
scripted per method (`fake.script("chat.postMessage", status=429, headers=...)`).

Socket Mode: `apps.connections.open` returns `ws://127.0.0.1:<port>/socket`; the fake says
hello on connect, and `await fake.push("slash_commands", payload)` sends an envelope and
returns the ack Slack would receive.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0FORUM01"
BOT_USER_ID = "UBOT00001"
BOT_ID = "BBOT00001"
APP_ID = "A0SENDBOT"

T = TypeVar("T")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)

    def json_arg(self, key: str) -> Any:
        """An argument that form bodies carry as a JSON string (blocks, files)."""
        value = self.args.get(key)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def user(user_id: str, name: str, *, admin: bool = False, owner: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name.lower(),
        "is_admin": admin,
        "is_owner": owner,
        "is_primary_owner": False,
        "is_bot": False,
        "profile": {"display_name": name, "real_name": name},
    }


class SlackFake:
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        channel_interval: float | None = None,
        workspace_rate: int | None = None,
        rtt: float = 0.0,
    ) -> None:
        """Limits on chat.postMessage, off by default: `channel_interval` seconds at least
        between two posts to one channel (Slack: about 1 s), and `workspace_rate` posts in
        any one second across the workspace; beyond either, 429 `ratelimited` with
        Retry-After, as Slack answers. `rtt`: seconds every Web API answer takes (limits are
        judged when the request arrives). `http_429` counts the 429s given."""
        self.channel_interval = channel_interval
        self.workspace_rate = workspace_rate
        self.rtt = rtt
        self.http_429 = 0
        self.limited: list[tuple[str, str]] = []  # (channel | workspace, channel) of each 429 given
        self._last_post: dict[str, float] = {}
        self._workspace_window: deque[float] = deque()
        self.bot_token = bot_token
        self.app_token = app_token
        # OAuth: bot tokens handed out by oauth.v2.access, each for its workspace; the codes
        # a test lets through (code -> workspace id); the client id and secret it expects.
        self.team_tokens: dict[str, str] = {}
        self.oauth_codes: dict[str, str] = {}
        self.client_id = "1111.2222"
        self.client_secret = "oauth-client-secret"
        self._token_now: str | None = None
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.not_joined: set[str] = set()  # channels where the bot isn't a member
        self.scripted: dict[str, list[Scripted]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.socket_connections = 0
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ws: web.WebSocketResponse | None = None
        self._ws_ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._bot_posts: set[tuple[str, str]] = set()
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> messages, newest first
        self.home_views: dict[str, dict[str, Any]] = {}  # user -> the Home tab last published
        self._lose_response: dict[str, tuple[int, int]] = {}  # method -> (status, calls to let through)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> SlackFake:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/"

    def response_url(self) -> str:
        return f"{self.origin}/response/{uuid.uuid4().hex[:8]}"

    # -- test API --------------------------------------------------------------------

    def script(self, method: str, *, status: int = 200, body: dict[str, Any] | None = None, **headers: str) -> None:
        """The next call of `method` gets this response instead of the normal one."""
        self.scripted.setdefault(method, []).append(
            Scripted(status, body, {k.replace("_", "-"): v for k, v in headers.items()})
        )

    def lose_next_response(self, method: str, status: int = 502, *, after: int = 0) -> None:
        """The next call of `method` (after `after` more that go through) takes effect, but
        its answer is lost (a 5xx), as when a gateway times out after Slack has already posted."""
        self._lose_response[method] = (status, after)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        """Wait until `method` has been called `count` times; return those calls."""

        def enough() -> bool:
            return len(self.of(method)) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(enough), within)
        return self.of(method)

    async def wait_until(self, predicate: Callable[[], T | None], within: float = 5.0) -> T:
        """Wait until predicate() is truthy, re-checked on every recorded call; return it."""
        async with self._changed:
            result = await asyncio.wait_for(self._changed.wait_for(predicate), within)
        assert result is not None  # wait_for returns only once the predicate is truthy
        return result

    async def wait_connected(self, within: float = 5.0) -> None:
        await asyncio.wait_for(self._ws_ready.wait(), within)

    async def refresh_socket(self, within: float = 5.0) -> None:
        """Do what Slack does every few hours: send `disconnect` (refresh_requested), close
        the WebSocket, and expect the client to open a fresh connection."""
        await self.wait_connected(within)
        assert self._ws is not None
        old, before = self._ws, self.socket_connections
        await old.send_str(json.dumps({"type": "disconnect", "reason": "refresh_requested"}))
        await old.close()
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.socket_connections > before and self._ws is not old), within
            )

    async def push(self, envelope_type: str, payload: dict[str, Any], within: float = 5.0) -> dict[str, Any]:
        """Send a Socket Mode envelope and return the app's ack for it."""
        await self.wait_connected(within)
        assert self._ws is not None
        envelope_id = uuid.uuid4().hex
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = waiter
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = 0
            envelope["retry_reason"] = ""
        await self._ws.send_str(json.dumps(envelope))
        return await asyncio.wait_for(waiter, within)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- Web API ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        arrived = time.monotonic()  # limits are judged by when a request arrived, before its body is read
        args = await _read_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else args.get("token")
        if auth.startswith("Basic "):  # oauth.v2.access: the app's client id and secret
            client_id, _, client_secret = base64.b64decode(auth[len("Basic ") :]).decode().partition(":")
            args.setdefault("client_id", client_id)
            args.setdefault("client_secret", client_secret)
        await self._record(Call(method, args, token))
        retry_after = self._rate_limited(method, args, arrived)
        if self.rtt:
            await asyncio.sleep(self.rtt)
        if retry_after is not None:
            self.http_429 += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )
        queued = self.scripted.get(method)
        if queued:
            s = queued.pop(0)
            return web.json_response(s.body or {"ok": s.status == 200}, status=s.status, headers=s.headers)
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if method != "oauth.v2.access" and token != expected and token not in self.team_tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        self._token_now = token  # read by a handler before its first await
        result = await handler(args)
        lost = self._lose_response.pop(method, None)
        if lost is not None:
            status, after = lost
            if after:
                self._lose_response[method] = (status, after - 1)
            else:
                return web.Response(status=status, text="upstream timed out")
        return web.json_response(result)

    def _rate_limited(self, method: str, args: dict[str, Any], now: float) -> int | None:
        """Seconds to wait (Slack's whole-second Retry-After) if a call that arrived at `now`
        (time.monotonic) is over a limit, else None; counts the call."""
        if method != "chat.postMessage":
            return None
        channel = str(args.get("channel"))
        if self.channel_interval is not None:
            last = self._last_post.get(channel)
            if last is not None and now - last < self.channel_interval:
                self.limited.append(("channel", channel))
                return max(1, math.ceil(last + self.channel_interval - now))
        if self.workspace_rate is not None:
            window = self._workspace_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.workspace_rate:
                self.limited.append(("workspace", channel))
                return max(1, math.ceil(window[0] + 1.0 - now))
            window.append(now)
        self._last_post[channel] = now
        return None

    def _next_ts(self) -> str:
        return f"1790000000.{next(self._ts):06d}"

    async def _m_oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("client_id") != self.client_id or args.get("client_secret") != self.client_secret:
            return {"ok": False, "error": "invalid_client_id"}
        team = self.oauth_codes.pop(str(args.get("code")), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-{team.lower()}-token"
        self.team_tokens[token] = team
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": "UINSTALLER"},
            "scope": "chat:write,commands",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": team, "name": f"Forum {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    async def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = self.team_tokens.get(str(self._token_now))
        if team is not None:
            return {
                "ok": True,
                "url": f"https://{team.lower()}.slack.com/",
                "team": f"Forum {team}",
                "user": "sendbot",
                "team_id": team,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        return {
            "ok": True,
            "url": "https://forum.slack.com/",
            "team": "Parent Carer Forum",
            "user": "sendbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    async def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel in self.not_joined:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._next_ts()
        self._bot_posts.add((channel, ts))
        message: dict[str, Any] = {"type": "message", "text": args.get("text"), "ts": ts, "bot_id": BOT_ID}
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        self.history.setdefault(channel, []).insert(0, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    async def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel in self.not_joined:
            return {"ok": False, "error": "not_in_channel"}
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata")).lower() in {"1", "true"}
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in self.history.get(channel, [])[:limit]
        ]
        return {"ok": True, "messages": messages, "has_more": False}

    async def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("channel")) in self.not_joined:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    async def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel")), str(args.get("ts")))
        if key not in self._bot_posts:
            return {"ok": False, "error": "cant_update_message"}
        return {"ok": True, "channel": key[0], "ts": key[1], "text": args.get("text")}

    async def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel")), str(args.get("ts")))
        if key not in self._bot_posts:
            return {"ok": False, "error": "cant_delete_message"}
        self._bot_posts.discard(key)
        return {"ok": True, "channel": key[0], "ts": key[1]}

    async def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("message_ts"))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://forum.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    async def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self.users.get(str(args.get("user")))
        return {"ok": True, "user": found} if found else {"ok": False, "error": "user_not_found"}

    async def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup"))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    async def _m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        groups = [{"id": gid, "handle": gid.lower(), "name": gid} for gid in self.usergroups]
        return {"ok": True, "usergroups": groups}

    async def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args.get("users")).upper()}}

    async def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(args["view"]) if isinstance(args.get("view"), str) else args.get("view") or {}
        if view.get("type") != "home" or not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks") or []) > 100:
            return {"ok": False, "error": "invalid_blocks"}
        self.home_views[str(args["user_id"])] = view
        return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}

    async def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(args["view"]) if isinstance(args.get("view"), str) else args.get("view") or {}
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if view.get("type") != "modal" or len(view.get("blocks") or []) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        if len(view["title"]["text"]) > 24 or len((view.get("submit") or {}).get("text", "")) > 24:
            return {"ok": False, "error": "invalid_arguments"}  # Slack: titles and buttons up to 24 characters
        return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}

    async def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        return {"ok": True, "upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    async def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(args["files"]) if isinstance(args.get("files"), str) else args.get("files") or []
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        await self._record(Call("upload", {"file_id": request.match_info["file_id"], "content": body}, None))
        return web.Response(text=f"OK - {len(body)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await request.json(), None))
        return web.Response(text="ok")

    # -- Socket Mode -----------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.socket_connections += 1
        self._ws = ws
        async with self._changed:
            self._changed.notify_all()
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}))
        self._ws_ready.set()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            envelope_id = data.get("envelope_id")
            if envelope_id:
                self.acks[envelope_id] = data
                waiter = self._ack_waiters.pop(envelope_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data)
        return ws


async def _read_args(request: web.Request) -> dict[str, Any]:
    """slack_sdk sends arguments as query parameters, a form body or JSON, by method."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "GET":
        return args
    if request.content_type == "application/json":
        data = await request.json()
        if isinstance(data, dict):
            args.update(data)
        return args
    args.update(urllib.parse.parse_qsl(await request.text(), keep_blank_values=True))
    return args


# -- building signed requests ------------------------------------------------------


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a request (v0 signature over "v0:ts:body")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def slash_command(
    command: str, text: str, *, user_id: str, channel_id: str = "C0GENERAL", response_url: str = ""
) -> dict[str, str]:
    return {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "team_domain": "forum",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": "parent",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def message_event(
    text: str, *, user_id: str, channel: str = "C0GENERAL", ts: str = "1790000000.900001", **extra: Any
) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel": channel,
        "user": user_id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        "team": TEAM_ID,
        **extra,
    }
    return {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": 1790000000,
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}
        ],
    }


def message_shortcut(
    *,
    reporter_id: str,
    author_id: str,
    text: str,
    callback_id: str = "report_misinformation",
    channel: str = "C0GENERAL",
    ts: str = "1790000000.800001",
    response_url: str = "",
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "token": "legacy-unused",
        "action_ts": "1790000001.000001",
        "team": {"id": TEAM_ID, "domain": "forum"},
        "user": {"id": reporter_id, "name": "reporter", "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "general"},
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "message_ts": ts,
        "message": {"type": "message", "user": author_id, "text": text, "ts": ts},
    }


def app_home_opened(user_id: str, *, tab: str = "home") -> dict[str, Any]:
    """The events_api payload Slack sends when someone opens the app's Home (or Messages) tab."""
    event = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id,
        "tab": tab,
        "event_ts": "1790000002.000001",
    }
    return {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": 1790000002,
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}
        ],
    }


def home_button(user_id: str, action_id: str, *, trigger_id: str = "4.5.6") -> dict[str, Any]:
    """A block_actions payload: a button in the Home tab was pressed (no channel, no response_url)."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "parent", "name": "parent", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-unused",
        "container": {"type": "view", "view_id": "VHOME0001"},
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": "forum"},
        "is_enterprise_install": False,
        "view": {"id": "VHOME0001", "type": "home", "callback_id": ""},
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "action_ts": "1790000003.000001"}],
    }


def view_submission(user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A view_submission payload for a modal the app opened, with its inputs' state."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "forum"},
        "user": {"id": user_id, "username": "parent", "name": "parent", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-unused",
        "trigger_id": "7.8.9",
        "is_enterprise_install": False,
        "view": {**view, "id": "VMODAL001", "team_id": TEAM_ID, "state": {"values": values}},
        "response_urls": [],
    }


def form_body(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)


def interactive_body(payload: dict[str, Any]) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})
