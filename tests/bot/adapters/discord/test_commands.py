"""The application commands Discord is given (issue 17): moderator commands hidden from
members by default, a slash form for every command, and syncs only when the definition
changed. Real discord.py against the loopback fake."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from bot.cli import main
from bot.cog import Cog
from bot.commands import command
from tests.support.discord import DiscordEnv, discord_env
from tests.support.fakes.discord_fake import APP_ID, GUILD_ID, MANAGE_MESSAGES

GUILD_SYNC = rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
REAL_COGS = ["cogs.help", "cogs.reports", "cogs.feeds", "cogs.rights", "cogs.timeline", "cogs.changes", "cogs.settings"]


async def _synced(env: DiscordEnv) -> dict[str, dict[str, Any]]:
    sync = await env.fake.wait_for_call("PUT", GUILD_SYNC)
    return {c["name"]: c for c in sync.json}


def _slash_names(payload: dict[str, dict[str, Any]]) -> set[str]:
    """Every `/name` and `/group sub` the payload registers."""
    names: set[str] = set()
    for cmd in payload.values():
        if cmd.get("type", 1) != 1:
            continue
        subs = [o for o in cmd.get("options") or [] if o["type"] == 1]
        names |= {f"{cmd['name']} {o['name']}" for o in subs} if subs else {cmd["name"]}
    return names


async def test_moderator_commands_carry_manage_messages_and_parent_commands_do_not(tmp_path: Path) -> None:
    async with discord_env(tmp_path, cog_modules=REAL_COGS) as env:
        by_name = await _synced(env)
        for name in ("reports", "feeds", "purge", "settings"):
            assert int(by_name[name]["default_member_permissions"]) == MANAGE_MESSAGES, name
        for name in ("report", "myreports", "forgetme", "rights", "timeline", "help", "topic", "probe"):
            assert by_name[name].get("default_member_permissions") is None, name


async def test_every_command_has_a_slash_form(tmp_path: Path) -> None:
    async with discord_env(tmp_path, cog_modules=REAL_COGS) as env:
        names = _slash_names(await _synced(env))
        groups = {s.parent for s in env.harness.core.dispatcher.specs if s.parent}
        for spec in env.harness.core.dispatcher.specs:
            if spec.name in groups:
                # A bare command with subcommands is a subcommand of its group.
                assert any(n.startswith(spec.name + " ") and n.split()[1] in ("list", "help", "show") for n in names)
            else:
                assert spec.name in names, spec.name
        assert "reports list" in names and "feeds help" in names
        assert {"settings show", "settings set", "settings reset"} <= names


async def test_reports_list_runs_the_queue_with_its_options(tmp_path: Path) -> None:
    async with discord_env(tmp_path, cog_modules=REAL_COGS) as env:
        fake = env.fake
        by_name = await _synced(env)
        listing = next(o for o in by_name["reports"]["options"] if o["name"] == "list")
        assert {o["name"] for o in listing["options"]} == {"page", "status", "tag"}
        options = [{"name": "list", "type": 1, "options": [{"name": "status", "type": 3, "value": "all"}]}]
        data = {"id": "1", "name": "reports", "type": 1, "guild_id": str(GUILD_ID), "options": options}
        await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.mod_user))
        call = await fake.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
        body = call.json["data"]
        assert "report" in (str(body.get("content")) + str(body.get("embeds"))).lower(), body


class ExtraCog(Cog):
    name = "extra"

    @command("extra", help="A command added after the first sync.")
    async def extra(self, ctx: Any) -> str:
        return "extra"


async def test_commands_are_synced_only_when_their_definition_changed(tmp_path: Path) -> None:
    # First login: the commands are registered.
    async with discord_env(tmp_path) as env:
        await _synced(env)
    # Same definition, next start: nothing to register.
    async with discord_env(tmp_path) as env:
        # Identified, so setup (where a sync would be) is over.
        assert env.fake.find_calls("PUT", GUILD_SYNC) == []
    # A changed definition is registered again.
    async with discord_env(tmp_path, wait_ready=False) as env:
        env.harness.core.add_cog(ExtraCog(env.harness.core))
        by_name = await _synced(env)
        assert "extra" in by_name


async def test_no_second_sync_after_the_message_content_fallback(tmp_path: Path) -> None:
    async with discord_env(tmp_path, grant_message_content=False, wait_ready=False) as env:
        await env.fake.wait_identified()  # the second identify, without Message Content
        assert len(env.fake.identifies) == 2
        assert len(env.fake.find_calls("PUT", GUILD_SYNC)) == 1


async def test_sendbot_discord_sync_forces_a_sync(tmp_path: Path) -> None:
    async with discord_env(tmp_path) as env:
        await _synced(env)
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f"""
[storage]
path = "{env.harness.core.config.storage.path}"
[discord]
token = "test-token"
api_base_url = "{env.fake.api_base_url}"
gateway_url = "{env.fake.gateway_url}"
guild_ids = [{GUILD_ID}]
""",
            encoding="utf-8",
        )
        with contextlib.suppress(SystemExit):
            code = await asyncio.to_thread(main, ["discord", "sync", "--config", str(cfg)])
            assert code == 0
        await env.fake.wait_for_call("PUT", GUILD_SYNC, count=2)


def test_sendbot_discord_sync_without_a_token_says_so(tmp_path: Path, capsys: Any) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n', encoding="utf-8")
    assert main(["discord", "sync", "--config", str(cfg)]) == 2
    assert "no Discord token" in capsys.readouterr().err


def test_the_payload_hash_ignores_key_order_and_sees_permissions() -> None:
    from bot.adapters.discord.commands import payload_hash

    a: list[dict[str, Any]] = [{"name": "help", "description": "d", "options": []}, {"name": "x", "type": 3}]
    b: list[dict[str, Any]] = [{"options": [], "description": "d", "name": "help"}, {"type": 3, "name": "x"}]
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash([{**a[0], "default_member_permissions": "8192"}, a[1]])
