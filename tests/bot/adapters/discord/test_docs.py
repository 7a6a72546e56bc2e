"""The admin guide's invite link must grant what the adapter says it needs, no more."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.discord import invite_permissions, invite_url

DOC = Path(__file__).resolve().parents[4] / "docs" / "discord.md"


def test_documented_permissions_match_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    minimal = invite_permissions().value
    with_manage = invite_permissions(manage_messages=True).value
    assert f"permissions={minimal}" in text
    assert f"permissions={with_manage}" in text
    assert not invite_permissions().administrator and not invite_permissions().mention_everyone


def test_invite_url_has_both_scopes() -> None:
    url = invite_url(123)
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=123")
    assert "scope=bot+applications.commands" in url
    assert f"permissions={invite_permissions().value}" in url
