"""`SlackAdapter`: slack-bolt's AsyncApp in Socket Mode (default) or HTTP mode.

Socket Mode needs no public URL, which suits a forum run by volunteers; HTTP mode serves
the Events API, slash commands and interactivity on `[slack] http_host:http_port
http_path`, with every request's signature checked by bolt (401 otherwise).

Composed of the App Home (home.py) and the command surfaces (commands.py) on the Messenger
(messenger.py); this module
holds what ties them together: the shared state, the bolt app and its listeners, the token
check at start, serving, and closing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError

from bot.adapters.base import secret_text
from bot.adapters.shared_pacer import make_pacer
from bot.adapters.slack.blocks import CHOICE_ACTION_RE, LINK_ACTION_ID
from bot.adapters.slack.checks import missing_token
from bot.adapters.slack.commands import REPORT_SHORTCUT_ID
from bot.adapters.slack.home import HOME_REPORT_ACTION, REPORT_MODAL_ID, SlackHome
from bot.adapters.slack.install import (
    BOT_SCOPES,
    CURRENT_TEAM,
    DatabaseInstallationStore,
    MemoryStateStore,
    TeamClient,
    serving,
)
from bot.adapters.slack.pacing import ChannelPacer, Clock, Sleep
from bot.adapters.slack.people import PLATFORM, SlackPeople, error_code
from bot.config import SlackSection
from bot.core import BotCore
from bot.forum_settings import MODERATOR_ROLE
from bot.model import ChannelRef, Reply
from storage.slack_installs import SlackInstalls

log = logging.getLogger(__name__)


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


def _oauth_settings(cfg: SlackSection, installs: SlackInstalls) -> AsyncOAuthSettings:
    """Bolt's OAuth flow for installing the app in several workspaces, stored in our database."""
    return AsyncOAuthSettings(
        client_id=cfg.client_id,
        client_secret=secret_text(cfg.client_secret),
        scopes=list(BOT_SCOPES),
        installation_store=DatabaseInstallationStore(installs),
        installation_store_bot_only=True,
        state_store=MemoryStateStore(),
        install_path=cfg.install_path,
        redirect_uri_path=cfg.redirect_path,
    )


class SlackAdapter(SlackHome):
    """Runs the bolt app and is the `slack` Messenger."""

    platform = PLATFORM
    can_edit = True

    def __init__(
        self,
        core: BotCore,
        *,
        post_interval: float = 1.0,
        workspace_rate: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """post_interval: seconds between posts to one channel; workspace_rate: posts per
        second across the workspace (None: `[slack] workspace_posts_per_second`; 0: unpaced)."""
        cfg = core.config.slack
        self.core = core
        self.mode = cfg.mode
        bot_token = secret_text(cfg.bot_token)
        self._app_token = secret_text(cfg.app_token)
        signing_secret = secret_text(cfg.signing_secret)
        # Checked when run() starts, not here, so a missing token stops the bot through
        # the app's normal shutdown (database closed, exit code 1) rather than mid-build.
        self._config_problem = missing_token(cfg)
        # Several workspaces ([slack] client_id, HTTP mode): each installs the app through
        # OAuth, and every call is signed with the token of the workspace served (install.py).
        self.oauth = cfg.oauth
        self.installs = SlackInstalls(core.db) if self.oauth else None
        self.client = TeamClient(
            token=None if self.oauth else bot_token, base_url=cfg.api_base_url, logger=log, installs=self.installs
        )
        oauth_settings = _oauth_settings(cfg, self.installs) if self.installs is not None else None
        self.app = AsyncApp(
            name="sendbot",
            client=self.client,
            signing_secret=signing_secret,
            # Socket Mode traffic arrives over the authenticated WebSocket; HTTP needs signatures.
            request_verification_enabled=self.mode == "http",
            oauth_settings=oauth_settings,
            logger=_bolt_logger(),
        )
        self.people = SlackPeople(
            self.client,
            moderator_user_ids=cfg.moderator_user_ids,
            moderator_usergroup=cfg.moderator_usergroup,
            group_for=lambda team: core.forum_settings.forum_value(PLATFORM, team, MODERATOR_ROLE),
        )
        self.pacer = ChannelPacer(post_interval, clock=clock, sleep=sleep)
        rate = cfg.workspace_posts_per_second if workspace_rate is None else workspace_rate
        # Shared with the other instances through the database when so configured (issue 15).
        self.workspace = make_pacer(
            core.db,
            "slack",
            bot_token or f"oauth:{cfg.client_id}",
            rate,
            shared=cfg.shared_rate_budget,
            stopping=lambda: core.stopping,
        )
        self._sleep = sleep
        self.bot_user_id: str | None = None
        self.bot_id = None
        self.team_id = None
        self.http_port: int | None = None  # the bound port in HTTP mode (useful with port 0)
        self.ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._seen_messages = OrderedDict()
        self._unsure = OrderedDict()
        self._register_listeners()
        core.register_messenger(self)

    def _register_listeners(self) -> None:
        if self.oauth:
            # Every listener's calls use the token of the workspace the request came from.
            self.app.use(self._serve_team)
            # An uninstalled app, or revoked tokens: the workspace's token is forgotten.
            self.app.enable_token_revocation_listeners()
        self.app.event("message")(self._on_message)
        self.app.command(re.compile(r"^/[\w.-]+$"))(self._on_command)
        self.app.message_shortcut(REPORT_SHORTCUT_ID)(self._on_report_shortcut)
        self.app.action(LINK_ACTION_ID)(self._on_link_click)
        self.app.action(CHOICE_ACTION_RE)(self._on_choice)
        # The App Home (home.py): the Home tab, its report button and the report form.
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.action(HOME_REPORT_ACTION)(self._on_home_report)
        self.app.view(REPORT_MODAL_ID)(self._on_report_submitted)

    async def _serve_team(self, context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        # Set, not reset: bolt runs the listeners after the middleware returns, in tasks that
        # copy this request's context. Each HTTP request has its own task and context, so
        # the workspace never leaks into another request.
        if context.team_id:
            CURRENT_TEAM.set(context.team_id)
        return await next()

    # What the bot starts itself (feed posts, notices) is signed for the channel's workspace.
    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        with serving(channel.scope_id if self.oauth else None):
            return await super().post(channel, reply, nonce=nonce, unsure=unsure)

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        with serving(channel.scope_id if self.oauth else None):
            await super().edit(channel, message_id, reply)

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        with serving(channel.scope_id if self.oauth else None):
            await super().delete(channel, message_id)

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        with serving(scope_id if self.oauth else None):
            return await super().send_direct(scope_id, user_id, reply)

    async def _usergroups(self, scope_id: str) -> list[dict[str, Any]]:
        with serving(scope_id if self.oauth else None):
            return await super()._usergroups(scope_id)

    async def run(self) -> None:
        """Check the token, then serve (Socket Mode or HTTP) until close()."""
        if self._config_problem:
            raise SlackConfigError(self._config_problem)
        if self.client.session is None or self.client.session.closed:
            # One session for every Web API call (slack_sdk would open, and close, one per
            # call): connections are kept alive, which a fan-out to many channels needs.
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        if self.installs is not None:
            # No token of its own: each workspace's comes with its installation.
            teams = await self.installs.teams()
            log.info(
                "slack: installed in %d workspace(s); more can install at %s",
                len(teams),
                self.core.config.slack.install_path,
            )
        else:
            try:
                auth = await self.client.auth_test()
            except SlackApiError as e:
                raise SlackConfigError(
                    f"Slack rejected the bot token ({error_code(e)}); check SLACK_BOT_TOKEN"
                ) from None
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
        if self.client.session is not None:
            session, self.client.session = self.client.session, None
            await session.close()

    async def _serve_http(self) -> None:
        cfg = self.core.config.slack
        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_post(cfg.http_path, self._handle_http)
        if self.oauth:
            # The install page ("Add to Slack") and Slack's redirect back after approval.
            web_app.router.add_get(cfg.install_path, self._handle_http)
            web_app.router.add_get(cfg.redirect_path, self._handle_http)
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
        if request.method == "POST" and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return web.Response(status=401, text="invalid request")
        bolt_request = await to_bolt_request(request)
        flow = self.app.oauth_flow
        if request.method == "GET" and flow is not None:
            # The install page and Slack's redirect after approval (what bolt's own web
            # adapters route to its OAuth flow); anything else is not ours.
            if request.path == flow.install_path:
                return await to_aiohttp_response(await flow.handle_installation(bolt_request))
            if request.path == flow.redirect_uri_path:
                return await to_aiohttp_response(await flow.handle_callback(bolt_request))
            return web.Response(status=404, text="not found")
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
