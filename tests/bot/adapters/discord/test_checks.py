"""`sendbot check` catches Discord settings that could never work."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks import run_checks
from bot.cli import main
from bot.config import parse

SERVER = "123456789012345678"
CHANNEL = "234567890123456789"


def sub(**kw: str) -> dict[str, str]:
    return {"url": "https://example.org/feed", "platform": "discord", "scope": SERVER, "channel": CHANNEL, **kw}


def discord_warnings(warnings: list[str]) -> list[str]:
    """Other modules (reports, content) add their own warnings to `sendbot check`; these tests are
    about Discord's."""
    return [w for w in warnings if not w.startswith(("reports.", "content:"))]


def test_good_discord_settings_pass() -> None:
    cfg = parse({"discord": {"guild_ids": [int(SERVER)]}, "feeds": {"subscriptions": [sub(mention_role="Alerts")]}}, {})
    problems, warnings = run_checks(cfg)
    assert problems == [] and discord_warnings(warnings) == []


def test_names_instead_of_ids_are_problems() -> None:
    cfg = parse({"feeds": {"subscriptions": [sub(scope="My forum", channel="general")]}}, {})
    problems, _ = run_checks(cfg)
    assert any(p.startswith("feeds.subscriptions.0.scope") for p in problems)
    assert any(p.startswith("feeds.subscriptions.0.channel") for p in problems)


def test_mass_mention_role_is_a_problem() -> None:
    for role in ("everyone", "@here", SERVER):
        problems, _ = run_checks(parse({"feeds": {"subscriptions": [sub(mention_role=role)]}}, {}))
        assert any("mention_role" in p for p in problems), role


def test_prefix_commands_off_is_a_warning() -> None:
    cfg = parse({"discord": {"message_content": False}}, {"DISCORD_TOKEN": "x"})
    expected = "discord.message_content is false: !commands are off on Discord, slash commands only"
    assert discord_warnings(run_checks(cfg)[1]) == [expected]


def test_sendbot_check_reports_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[[feeds.subscriptions]]\nurl = "https://example.org/f"\nplatform = "discord"\nscope = "{SERVER}"\n'
        'channel = "general"\n',
        encoding="utf-8",
    )
    assert main(["check", "--config", str(path)]) == 1
    assert "feeds.subscriptions.0.channel" in capsys.readouterr().out
