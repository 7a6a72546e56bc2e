"""`sendbot check` for Slack settings: catches the mix-ups forum admins actually make
(an app token pasted as the bot token, a display name where a member id belongs) before
the bot starts. Imports no Slack library, so `sendbot check` stays fast.

The token rules live here once: the adapter refuses to start on `missing_token`, and
`sendbot check` names what `token_problems` finds."""

from __future__ import annotations

import re

from bot.adapters.base import secret_text
from bot.adapters.slack.blocks import mention_for
from bot.config import Config, SlackSection
from feeds.settings import FeedsSettings

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
BOT_TOKEN_PREFIX = "xoxb-"
APP_TOKEN_PREFIX = "xapp-"


def missing_token(slack: SlackSection) -> str | None:
    """The first secret the configured mode cannot run without, as a problem naming its key."""
    if slack.oauth:
        if slack.mode != "http":
            return 'slack.mode: installing in several workspaces (client_id) needs mode = "http"'
        if not secret_text(slack.signing_secret):
            return "slack.signing_secret: HTTP mode needs the signing secret or SLACK_SIGNING_SECRET"
        return None
    if not secret_text(slack.bot_token):
        return f"slack.bot_token: set the bot token ({BOT_TOKEN_PREFIX}…) or SLACK_BOT_TOKEN"
    if slack.mode == "socket" and not secret_text(slack.app_token):
        return f"slack.app_token: Socket Mode needs an app-level token ({APP_TOKEN_PREFIX}…) or SLACK_APP_TOKEN"
    if slack.mode == "http" and not secret_text(slack.signing_secret):
        return "slack.signing_secret: HTTP mode needs the signing secret or SLACK_SIGNING_SECRET"
    return None


def token_problems(slack: SlackSection) -> list[str]:
    """Tokens that are set but are not the kind their key needs (pasted into the wrong box)."""
    problems = []
    app_token = secret_text(slack.app_token)
    if not slack.oauth and not secret_text(slack.bot_token).startswith(BOT_TOKEN_PREFIX):
        problems.append(f"slack.bot_token: expected the Bot User OAuth Token, which starts {BOT_TOKEN_PREFIX}")
    if slack.mode == "socket" and app_token and not app_token.startswith(APP_TOKEN_PREFIX):
        problems.append(f"slack.app_token: expected the app-level token, which starts {APP_TOKEN_PREFIX}")
    return problems


def check(config: Config) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    slack = config.slack
    for i, sub in enumerate(config.section(FeedsSettings).subscriptions):
        if sub.platform == "slack" and sub.mention_role and mention_for(sub.mention_role) is None:
            problems.append(
                f"feeds.subscriptions.{i}.mention_role: on Slack use a user group id (S0123ABCD), here or channel"
            )
    if not config.slack_enabled:
        return problems, warnings
    if missing := missing_token(slack):
        problems.append(missing)
    problems += token_problems(slack)
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
