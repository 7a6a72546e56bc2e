"""Who is who on Slack: display names and moderator status, looked up and cached.

A moderator is a workspace admin or owner (users.info), a user id listed in
`[slack] moderator_user_ids`, or a member of the workspace's moderators' user group
(usergroups.users.list): the one its moderators chose with `!settings set moderator-role`,
else `[slack] moderator_usergroup`. Lookups are cached for a few minutes so a busy channel does not
cost one API call per command, and a failed lookup makes nobody a moderator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Actor

log = logging.getLogger(__name__)

PLATFORM = "slack"
_MAX_CACHED = 5000


def error_code(e: SlackApiError) -> str:
    """Slack's error code ("not_in_channel"), or the HTTP status when the body wasn't JSON."""
    data = getattr(e.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(e.response, 'status_code', 'error')}"


def _passing(e: SlackApiError) -> bool:
    """A failure that says nothing about the person (a 429, Slack's own 5xx): not cached,
    or a moderator would be refused for the whole cache lifetime after one busy moment."""
    status = getattr(e.response, "status_code", 200)
    return status == 429 or status >= 500 or error_code(e) in {"ratelimited", "internal_error", "fatal_error"}


class SlackPeople:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        moderator_user_ids: list[str] | tuple[str, ...] = (),
        moderator_usergroup: str | None = None,
        group_for: Callable[[str], Awaitable[str | None]] | None = None,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.moderator_user_ids = frozenset(moderator_user_ids)
        self.moderator_usergroup = moderator_usergroup
        # A workspace's own moderators' group (`!settings`), by team id; None: the config's.
        self.group_for = group_for
        self.ttl = ttl
        self._clock = clock
        self._users: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._group_lock = asyncio.Lock()
        self._inflight: dict[str, asyncio.Future[dict[str, Any] | None]] = {}

    async def actor(self, user_id: str, fallback_name: str | None = None, *, team: str = "") -> Actor:
        info = await self.user_info(user_id)
        name = fallback_name or user_id
        if info:
            profile = info.get("profile") or {}
            name = profile.get("display_name") or profile.get("real_name") or info.get("name") or name
        is_admin = bool(info and (info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner")))
        is_moderator = user_id in self.moderator_user_ids or is_admin or await self._in_group(user_id, team)
        return Actor(PLATFORM, user_id, str(name), is_moderator=is_moderator)

    async def user_info(self, user_id: str) -> dict[str, Any] | None:
        cached = self._users.get(user_id)
        if cached and cached[0] > self._clock():
            return cached[1]
        # Commands arriving together from one person share one lookup.
        task = self._inflight.get(user_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch_user(user_id))
            self._inflight[user_id] = task
            task.add_done_callback(lambda _t: self._inflight.pop(user_id, None))
        return await asyncio.shield(task)

    async def _fetch_user(self, user_id: str) -> dict[str, Any] | None:
        info: dict[str, Any] | None = None
        try:
            resp = await self.client.users_info(user=user_id)
            info = resp.get("user") or None
        # The user id stays out of the log: the lookup may be for someone making a report.
        except SlackApiError as e:
            log.warning("slack: users.info failed: %s", error_code(e))
            if _passing(e):
                return None  # rate limited or Slack's trouble: ask again next time
        except Exception as e:  # network trouble: treat as unknown, retry next time
            log.warning("slack: users.info failed: %s", type(e).__name__)
            return None
        now = self._clock()
        if len(self._users) >= _MAX_CACHED:
            self._users = {k: v for k, v in self._users.items() if v[0] > now}
        self._users[user_id] = (now + self.ttl, info)
        return info

    async def moderators_group(self, team: str) -> str | None:
        chosen = await self.group_for(team) if self.group_for is not None and team else None
        return chosen or self.moderator_usergroup

    async def _in_group(self, user_id: str, team: str = "") -> bool:
        group = await self.moderators_group(team)
        if not group:
            return False
        async with self._group_lock:
            now = self._clock()
            cached = self._groups.get(group)
            if cached is None or cached[0] <= now:
                try:
                    resp = await self.client.usergroups_users_list(usergroup=group)
                    members = frozenset(resp.get("users") or [])
                except SlackApiError as e:
                    log.warning("slack: usergroups.users.list failed: %s", error_code(e))
                    if _passing(e):
                        return False
                    members = frozenset()
                except Exception as e:
                    log.warning("slack: usergroups.users.list failed: %s", type(e).__name__)
                    return False
                cached = self._groups[group] = (now + self.ttl, members)
            return user_id in cached[1]
