"""Several workspaces through OAuth (`[slack] client_id`, HTTP mode): slack-bolt's installation
store and state store, kept by the bot, and the per-workspace token every Web API call uses.

- `DatabaseInstallationStore`: bolt saves each workspace's installation here (the bot's
  database, `storage/slack_installs.py`), and finds the bot token again for every request
  from that workspace;
- `MemoryStateStore`: the one-time `state` of an install in progress (ten minutes; a restart
  in the middle means clicking "Add to Slack" again);
- `TeamClient`: the AsyncWebClient whose calls carry the token of the workspace being served
  (`serving(team)`, a context variable), so the Messenger, the answers and the people lookup
  work unchanged for every workspace. With one bot token (no client_id) it is a plain client.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from storage.slack_installs import SlackInstall, SlackInstalls

log = logging.getLogger(__name__)

# What the bot asks each workspace for when it installs: the same as slack-manifest.json's
# oauth_config.scopes.bot (a test checks).
BOT_SCOPES = (
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "chat:write",
    "commands",
    "users:read",
    "usergroups:read",
    "files:read",  # files shared with a command (`!feeds import` with an OPML file)
    "files:write",
    "im:write",
)

# The workspace whose token the current task's Web API calls use.
CURRENT_TEAM: contextvars.ContextVar[str | None] = contextvars.ContextVar("sendbot_slack_team", default=None)


@contextlib.contextmanager
def serving(team: str | None) -> Iterator[None]:
    """Calls made inside use this workspace's bot token (no change when team is empty)."""
    if not team:
        yield
        return
    token = CURRENT_TEAM.set(team)
    try:
        yield
    finally:
        CURRENT_TEAM.reset(token)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DatabaseInstallationStore(AsyncInstallationStore):
    """Bolt's installation store on the bot's database: one bot token per workspace."""

    def __init__(self, installs: SlackInstalls) -> None:
        self.installs = installs
        self._log = log

    @property
    def logger(self) -> logging.Logger:
        return self._log

    async def async_save(self, installation: Installation) -> None:
        if not installation.team_id or not installation.bot_token:
            raise ValueError("an installation without a workspace or a bot token (org-wide installs are not supported)")
        scopes = installation.bot_scopes or []
        await self.installs.save(
            SlackInstall(
                team_id=installation.team_id,
                enterprise_id=installation.enterprise_id,
                team_name=installation.team_name,
                app_id=installation.app_id,
                bot_id=installation.bot_id,
                bot_user_id=installation.bot_user_id,
                bot_token=installation.bot_token,
                bot_scopes=",".join(scopes) if isinstance(scopes, list) else str(scopes),
                installer_user_id=installation.user_id,
                installed_at=_iso(float(installation.installed_at or time.time())),
            )
        )
        log.info("slack: installed in workspace %s", installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        raise NotImplementedError("installations are saved whole (async_save)")

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = await self.installs.find(team_id) if team_id else None
        if found is None:
            return None
        return Bot(
            app_id=found.app_id,
            enterprise_id=found.enterprise_id,
            team_id=found.team_id,
            team_name=found.team_name,
            bot_token=found.bot_token,
            bot_id=found.bot_id or "",
            bot_user_id=found.bot_user_id or "",
            bot_scopes=found.bot_scopes,
            installed_at=datetime.strptime(found.installed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp(),
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if team_id:
            await self.installs.delete(team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if team_id and user_id is None:
            await self.installs.delete(team_id)


class MemoryStateStore(AsyncOAuthStateStore):
    """The `state` of installs in progress: random, used once, gone after `expires` seconds."""

    def __init__(self, expires: float = 600.0) -> None:
        self.expires = expires
        self._issued: dict[str, float] = {}
        self._log = log

    @property
    def logger(self) -> logging.Logger:
        return self._log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        now = time.monotonic()
        self._issued = {s: t for s, t in self._issued.items() if now - t < self.expires}
        state = secrets.token_urlsafe(24)
        self._issued[state] = now
        return state

    async def async_consume(self, state: str) -> bool:
        issued = self._issued.pop(state, None)
        return issued is not None and time.monotonic() - issued < self.expires


class TeamClient(AsyncWebClient):
    """An AsyncWebClient that, given an installation store, signs each call with the bot token
    of the workspace in `CURRENT_TEAM` (a call that names its own token keeps it)."""

    def __init__(self, *args: Any, installs: SlackInstalls | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.installs = installs

    async def api_call(
        self,
        api_method: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        team = CURRENT_TEAM.get()
        named = "token" in (params or {}) or "token" in (json or {})
        if self.installs is not None and team and not named and api_method != "oauth.v2.access":
            found = await self.installs.find(team)
            if found is not None:
                headers = {**(kwargs.pop("headers", None) or {}), "Authorization": f"Bearer {found.bot_token}"}
                kwargs["headers"] = headers
            else:
                log.warning("slack: no installation for workspace %s", team)
        return await super().api_call(api_method, params=params, json=json, **kwargs)
