"""`sendbot check` on Slack settings."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.slack.checks import check
from bot.checks import check_functions
from bot.config import parse


def checks(slack: dict[str, Any], subs: list[dict[str, Any]] | None = None) -> tuple[list[str], list[str]]:
    data: dict[str, Any] = {"slack": slack}
    if subs is not None:
        data["feeds"] = {"subscriptions": subs}
    return check(parse(data, environ={}))


def test_registered_for_sendbot_check() -> None:
    assert check in check_functions(parse({}, environ={}))


def test_good_socket_config_passes() -> None:
    problems, warnings = checks(
        {
            "bot_token": "xoxb-1",
            "app_token": "xapp-1",
            "moderator_user_ids": ["U0123ABCD"],
            "moderator_usergroup": "S0MODS",
        }
    )
    assert problems == [] and warnings == []


def test_common_mix_ups_are_named() -> None:
    problems, _ = checks(
        {"bot_token": "xapp-1", "app_token": "xoxb-1", "moderator_user_ids": ["@sam"], "moderator_usergroup": "mods"}
    )
    text = "\n".join(problems)
    assert "slack.bot_token" in text and "xoxb-" in text
    assert "slack.app_token" in text
    assert "'@sam' is not a member id" in text
    assert "slack.moderator_usergroup" in text


def test_http_mode_on_loopback_warns() -> None:
    problems, warnings = checks({"bot_token": "xoxb-1", "signing_secret": "s", "mode": "http"})
    assert problems == []
    assert any("reverse proxy" in w for w in warnings)


def test_slack_feed_ping_must_be_a_usergroup() -> None:
    sub = {"url": "https://example.org/feed", "platform": "slack", "scope": "T1", "channel": "C1"}
    problems, _ = checks({}, [sub | {"mention_role": "parents"}, sub | {"mention_role": "S0PARENTS"}])
    assert problems == ["feeds.subscriptions.0.mention_role: on Slack use a user group id (S0123ABCD), here or channel"]


@pytest.mark.parametrize(
    ("slack", "key"),
    [
        ({"bot_token": "xoxb-1", "mode": "socket"}, "slack.app_token: Socket Mode needs"),
        ({"bot_token": "xoxb-1", "mode": "http"}, "slack.signing_secret: HTTP mode needs"),
    ],
)
def test_a_secret_the_mode_needs_is_named_once_by_sendbot_check(slack: dict[str, Any], key: str) -> None:
    from bot.checks import run_checks

    problems, _ = run_checks(parse({"slack": slack}, environ={}))
    assert [p for p in problems if p.startswith(key)] == [p for p in problems if "needs" in p and "slack." in p]
    assert len([p for p in problems if p.startswith(key)]) == 1


def test_several_workspaces_need_http_mode_and_the_signing_secret_not_a_bot_token() -> None:
    oauth = {"client_id": "1111.2222", "client_secret": "s3cret"}
    problems, _ = checks({**oauth, "mode": "http", "signing_secret": "abc"})
    assert problems == []
    problems, _ = checks({**oauth, "mode": "socket", "app_token": "xapp-1"})
    assert any(p.startswith("slack.mode:") for p in problems)
    problems, _ = checks({**oauth, "mode": "http"})
    assert any(p.startswith("slack.signing_secret:") for p in problems)
    assert parse({"slack": {**oauth, "mode": "http"}}, environ={}).slack_enabled
    assert parse({"slack": oauth}, environ={"SLACK_CLIENT_SECRET": "x"}).slack.oauth
