"""`sendbot check` for Slack settings: catches the mix-ups forum admins actually make
(an app token pasted as the bot token, a display name where a member id belongs) before
the bot starts. Imports no Slack library, so `sendbot check` stays fast."""

from __future__ import annotations

import re

from bot.adapters.slack_blocks import mention_for
from bot.config import Config

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


def check(config: Config) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    slack = config.slack
    for i, sub in enumerate(config.feeds.subscriptions):
        if sub.platform == "slack" and sub.mention_role and mention_for(sub.mention_role) is None:
            problems.append(
                f"feeds.subscriptions.{i}.mention_role: on Slack use a user group id (S0123ABCD), here or channel"
            )
    if not config.slack_enabled:
        return problems, warnings
    bot_token = slack.bot_token.get_secret_value() if slack.bot_token else ""
    app_token = slack.app_token.get_secret_value() if slack.app_token else ""
    if not bot_token.startswith("xoxb-"):
        problems.append("slack.bot_token: expected the Bot User OAuth Token, which starts xoxb-")
    if slack.mode == "socket" and app_token and not app_token.startswith("xapp-"):
        problems.append("slack.app_token: expected the app-level token, which starts xapp-")
    for uid in slack.moderator_user_ids:
        if not _USER_ID.match(uid):
            problems.append(
                f"slack.moderator_user_ids: {uid[:40]!r} is not a member id (they look like U0123ABCD: "
                "open the person's profile, ⋮, Copy member ID)"
            )
    if slack.moderator_usergroup and not _GROUP_ID.match(slack.moderator_usergroup):
        problems.append("slack.moderator_usergroup: expected a user group id such as S0123ABCD")
    if slack.mode == "http" and slack.http_host in {"127.0.0.1", "localhost", "::1"}:
        warnings.append(
            "slack.http_host is local only: Slack can reach it only through a reverse proxy on this machine"
        )
    return problems, warnings
