"""The Discord adapter end to end: real discord.py against the loopback fake.

Each test pushes gateway events as Discord would and asserts on the REST calls discord.py
made, waiting on the fake's recorded calls rather than on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.discord import DiscordEnv, discord_env, until_identified
from tests.support.fakes.discord_fake import (
    ALERT_ROLE_ID,
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MOD_ID,
    THREAD_ID,
    FakeDiscord,
)

MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
EPHEMERAL = 64


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[DiscordEnv]:
    async with discord_env(tmp_path) as e:
        yield e


def slash(fake: FakeDiscord, name: str, options: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    data = {"id": "700000000000000001", "name": name, "type": 1, "guild_id": str(GUILD_ID), "options": options or []}
    return fake.interaction_payload(data, by=kw.pop("by", fake.member_user), **kw)


def opt(name: str, value: Any, otype: int = 3, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": otype, "value": value, **extra}


def assert_no_pings(env: DiscordEnv) -> None:
    """Every message-making call carried allowed_mentions that ping nobody."""
    sent = env.bot_messages()
    assert sent, "nothing was sent"
    for call in sent:
        body = call.json.get("data", call.json) if call.path.endswith("/callback") else call.json
        if call.path.endswith("/callback") and call.json.get("type") in (5, 8):
            continue  # a deferral or autocomplete choices: no message content
        mentions = body["allowed_mentions"]
        assert mentions["parse"] == [], call
        assert not mentions.get("roles") and not mentions.get("users"), call
        assert not mentions.get("replied_user"), call  # Discord: absent means false


# -- prefix commands ---------------------------------------------------------------------


async def test_prefix_command_gets_a_reply(env: DiscordEnv) -> None:
    fake = env.fake
    msg = fake.message_payload("!help", author=fake.member_user)
    await fake.push("MESSAGE_CREATE", msg)
    call = await fake.wait_for_call("POST", MESSAGES)
    embed = call.json["embeds"][0]
    assert embed["title"] == "SEND forum bot: commands"
    assert "`!topic`" in embed["description"]
    assert str(call.json["message_reference"]["message_id"]) == msg["id"]
    assert_no_pings(env)
    # discord.py heartbeats as soon as HELLO arrives, before it identifies.
    assert fake.heartbeats >= 1


async def test_messages_from_bots_and_plain_chat_are_ignored(env: DiscordEnv) -> None:
    fake = env.fake
    other_bot = {**fake.member_user, "id": "400000000000000099", "bot": True}
    await fake.push("MESSAGE_CREATE", fake.message_payload("!help", author=other_bot))
    await fake.push("MESSAGE_CREATE", fake.message_payload("hello everyone", author=fake.member_user))
    last = fake.message_payload("!secret", author=fake.member_user)
    await fake.push("MESSAGE_CREATE", last)
    # Events are handled in order, so once the last one's answer is out, the others were seen.
    await fake.wait_for_call("POST", r"/users/@me/channels")
    await fake.wait_for_call("POST", r"/channels/\d+/messages")
    assert fake.find_calls("POST", MESSAGES) == []


async def test_hostile_text_pings_nobody(env: DiscordEnv) -> None:
    fake = env.fake
    text = f"!shout @everyone @here <@&{ALERT_ROLE_ID}> <@{MEMBER_ID}> hi"
    await fake.push("MESSAGE_CREATE", fake.message_payload(text, author=fake.member_user))
    call = await fake.wait_for_call("POST", MESSAGES)
    content = call.json["content"]
    assert "@everyone" not in content and "@here" not in content
    assert "@\u200beveryone" in content
    assert_no_pings(env)


async def test_ephemeral_reply_to_a_prefix_command_goes_by_dm(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("MESSAGE_CREATE", fake.message_payload("!secret", author=fake.member_user))
    dm = await fake.wait_for_call("POST", r"/users/@me/channels")
    assert dm.json["recipient_id"] in (str(MEMBER_ID), MEMBER_ID)
    sent = await fake.wait_for_call("POST", r"/channels/\d+/messages")
    assert sent.json["content"] == "only you can see this"
    assert sent.path != f"/channels/{CHANNEL_ID}/messages"
    assert_no_pings(env)


async def test_ephemeral_reply_falls_back_to_public_when_dms_are_closed(env: DiscordEnv) -> None:
    fake = env.fake
    fake.fail_next("POST", rf"/channels/(?!{CHANNEL_ID})\d+/messages", 403, {"message": "Cannot DM", "code": 50007})
    await fake.push("MESSAGE_CREATE", fake.message_payload("!secret", author=fake.member_user))
    call = await fake.wait_for_call("POST", MESSAGES)
    assert call.json["content"] == "only you can see this"


async def test_member_is_refused_a_moderator_command(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("MESSAGE_CREATE", fake.message_payload("!purge", author=fake.member_user))
    refusal = await fake.wait_for_call("POST", r"/channels/\d+/messages")
    assert "for the forum's moderators" in refusal.json["content"]
    assert "purged" not in str([c.json for c in env.bot_messages()])


@pytest.mark.parametrize("who", ["mod_user", "helper_user"])
async def test_moderators_by_permission_or_configured_role(env: DiscordEnv, who: str) -> None:
    fake = env.fake
    # mod_user has a role with Manage Messages; helper_user's role is named in config.
    await fake.push("MESSAGE_CREATE", fake.message_payload("!purge", author=getattr(fake, who)))
    call = await fake.wait_for_call("POST", MESSAGES)
    assert call.json["content"] == "purged"


async def test_delete_trigger_removes_the_command_message(env: DiscordEnv) -> None:
    fake = env.fake
    msg = fake.message_payload("!tidy my child's name is in here", author=fake.member_user)
    fake.messages[int(msg["id"])] = msg
    await fake.push("MESSAGE_CREATE", msg)
    await fake.wait_for_call("DELETE", rf"{MESSAGES}/{msg['id']}")
    reply = await fake.wait_for_call("POST", r"/channels/\d+/messages")
    assert reply.json["content"].startswith("Thanks")
    assert "message_reference" not in reply.json  # never a reply to a deleted message
    assert int(msg["id"]) not in fake.messages


async def test_attachments_are_uploaded_as_files(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("MESSAGE_CREATE", fake.message_payload("!ics", author=fake.member_user))
    call = await fake.wait_for_call("POST", MESSAGES)
    assert call.files == [("dates.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")]
    assert call.json["content"] == "Your dates"


async def test_unexpected_error_shows_a_reference_not_a_traceback(env: DiscordEnv, caplog: Any) -> None:
    fake = env.fake
    with caplog.at_level(logging.ERROR):
        await fake.push("MESSAGE_CREATE", fake.message_payload("!boom", author=fake.member_user))
        call = await fake.wait_for_call("POST", r"/channels/\d+/messages")
    assert "something went wrong (ref" in call.json["content"]
    assert "kaboom" not in call.json["content"] and "Traceback" not in call.json["content"]


async def test_a_gateway_reconnect_resumes_the_session_and_keeps_answering(env: DiscordEnv) -> None:
    """Discord moves sessions (op 7) routinely: the adapter resumes rather than logging in
    again, does not re-register its slash commands, and answers commands afterwards."""
    fake = env.fake
    syncs = len(fake.find_calls("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"))
    await fake.request_reconnect()
    resumed = await fake.wait_resumed()
    assert resumed["session_id"] == "session-1" and resumed["token"] == "test-token"
    await fake.push("MESSAGE_CREATE", fake.message_payload("!whereami", author=fake.member_user))
    call = await fake.wait_for_call("POST", MESSAGES)
    assert "via=prefix" in call.json["content"]
    assert len(fake.identifies) == 1
    assert len(fake.find_calls("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")) == syncs
    assert not env.task.done()


async def test_a_command_in_a_thread_is_answered_in_that_thread(env: DiscordEnv) -> None:
    """Threads are where forum conversations happen: the answer goes to the thread (as a
    reply), moderator rights come from the parent channel, and nothing pings."""
    fake = env.fake
    msg = fake.message_payload("!whereami", author=fake.member_user, channel_id=THREAD_ID)
    await fake.push("MESSAGE_CREATE", msg)
    call = await fake.wait_for_call("POST", rf"/channels/{THREAD_ID}/messages")
    assert f"channel={THREAD_ID}" in call.json["content"] and "mod=False" in call.json["content"]
    assert str(call.json["message_reference"]["message_id"]) == msg["id"]
    await fake.push("MESSAGE_CREATE", fake.message_payload("!purge", author=fake.mod_user, channel_id=THREAD_ID))
    call = await fake.wait_for_call("POST", rf"/channels/{THREAD_ID}/messages", count=2)
    assert call.json["content"] == "purged"
    assert fake.find_calls("POST", MESSAGES) == []
    assert_no_pings(env)


async def test_an_error_outside_the_dispatcher_still_answers_a_prefix_command(
    env: DiscordEnv, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in the adapter itself (here the renderer) is logged with a reference and the
    person gets that reference, not silence; the next command is answered as usual."""
    import bot.adapters.discord.answer as adapter_module

    real_render = adapter_module.render
    calls = 0

    def broken_once(*args: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("kaboom")
        return real_render(*args, **kw)

    monkeypatch.setattr(adapter_module, "render", broken_once)
    fake = env.fake
    with caplog.at_level(logging.ERROR):
        await fake.push("MESSAGE_CREATE", fake.message_payload("!whereami", author=fake.member_user))
        call = await fake.wait_for_call("POST", MESSAGES)
    text = call.json["content"]
    assert "something went wrong (ref" in text and "kaboom" not in text
    ref = text.split("ref `")[1][:6]
    assert f"ref={ref}" in caplog.text
    await fake.push("MESSAGE_CREATE", fake.message_payload("!whereami", author=fake.member_user))
    call = await fake.wait_for_call("POST", MESSAGES, count=2)
    assert "via=prefix" in call.json["content"]
    assert_no_pings(env)


# -- slash commands ----------------------------------------------------------------------


async def test_slash_commands_are_synced_with_typed_options(env: DiscordEnv) -> None:
    sync = await env.fake.wait_for_call("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    by_name = {c["name"]: c for c in sync.json}
    assert by_name["help"]["options"] == [
        {"type": 3, "name": "topic", "description": "a command name, e.g. rights", "required": False}
    ]
    assert by_name["topic"]["options"][0]["autocomplete"] is True
    group = by_name["probe"]
    add = next(o for o in group["options"] if o["name"] == "add")
    assert add["type"] == 1  # subcommand
    types = {o["name"]: (o["type"], o["required"]) for o in add["options"]}
    assert types == {"name": (3, True), "count": (4, False), "mode": (3, False), "loud": (5, False)}
    mode = next(o for o in add["options"] if o["name"] == "mode")
    assert [c["value"] for c in mode["choices"]] == ["fast", "slow"]
    assert by_name["Report misinformation"]["type"] == 3  # message context menu
    assert all(1 <= len(c.get("description", "x")) <= 100 for c in sync.json)
    assert env.fake.find_calls("PUT", rf"/applications/{APP_ID}/commands") == []  # guild sync only


async def test_slash_command_renders_an_embed(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("INTERACTION_CREATE", slash(fake, "topic", [opt("topic", "ehcp")]))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["type"] == 4
    data = call.json["data"]
    assert not data.get("flags", 0) & EPHEMERAL
    embed = data["embeds"][0]
    assert embed["title"] == "Topic: ehcp"
    assert embed["description"] == "**Bold** body with a [link](https://example.org/a)."
    assert embed["url"] == "https://example.org/topic"
    assert embed["color"] == 0x123456
    assert embed["footer"]["text"] == "Not legal advice."
    assert embed["fields"] == [
        {"name": "Where", "value": "Here", "inline": True},
        {"name": "When", "value": "Now", "inline": False},
    ]
    assert_no_pings(env)


async def test_slash_subcommand_with_typed_options(env: DiscordEnv) -> None:
    fake = env.fake
    options = [opt("name", "x"), opt("count", 3, 4), opt("mode", "slow"), opt("loud", True, 5)]
    await fake.push("INTERACTION_CREATE", slash(fake, "probe", [{"name": "add", "type": 1, "options": options}]))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["data"]["content"] == "added x x3 mode=slow loud=True"


async def test_slash_ephemeral_reply(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("INTERACTION_CREATE", slash(fake, "secret"))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["data"]["flags"] & EPHEMERAL
    assert call.json["data"]["content"] == "only you can see this"


async def test_slash_moderator_command_refused_to_a_member(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("INTERACTION_CREATE", slash(fake, "purge"))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["data"]["flags"] & EPHEMERAL
    assert "for the forum's moderators" in call.json["data"]["content"]
    await fake.push("INTERACTION_CREATE", slash(fake, "purge", by=fake.mod_user))
    call = await fake.wait_for_call("POST", CALLBACK, count=2)
    assert call.json["data"]["content"] == "purged"


async def test_autocomplete_offers_topics(env: DiscordEnv) -> None:
    fake = env.fake
    options = [opt("topic", "rev", focused=True)]
    await fake.push("INTERACTION_CREATE", slash(fake, "topic", options, itype=4))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["type"] == 8
    assert call.json["data"]["choices"] == [{"name": "Annual reviews", "value": "annual-review"}]


async def test_slash_command_attachment_is_sent_with_the_interaction_answer(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("INTERACTION_CREATE", slash(fake, "ics"))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "Your dates"
    assert call.files == [("dates.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")]
    assert_no_pings(env)


async def test_slow_slash_command_is_deferred_privately_then_answered_in_public(env: DiscordEnv) -> None:
    fake = env.fake
    env.adapter.defer_after = 0.05
    await fake.push("INTERACTION_CREATE", slash(fake, "slow"))
    deferral = await fake.wait_for_call("POST", CALLBACK)
    assert deferral.json["type"] == 5
    assert deferral.json["data"]["flags"] & EPHEMERAL
    env.probe.release_slow.set()
    note = await fake.wait_for_call("PATCH", rf"/webhooks/{APP_ID}/[^/]+/messages/@original")
    answer = await fake.wait_for_call("POST", rf"/webhooks/{APP_ID}/[^/]+")
    assert note.json["content"] == "Done: posted in the channel."
    assert answer.json["content"] == "finally"
    assert not answer.json.get("flags", 0) & EPHEMERAL
    assert_no_pings(env)


async def test_slow_private_answer_replaces_the_private_deferral(env: DiscordEnv) -> None:
    fake = env.fake
    env.adapter.defer_after = 0.05
    env.probe.slow_is_private = True
    await fake.push("INTERACTION_CREATE", slash(fake, "slow"))
    deferral = await fake.wait_for_call("POST", CALLBACK)
    assert deferral.json["type"] == 5 and deferral.json["data"]["flags"] & EPHEMERAL
    env.probe.release_slow.set()
    answer = await fake.wait_for_call("PATCH", rf"/webhooks/{APP_ID}/[^/]+/messages/@original")
    assert answer.json["content"] == "finally"
    assert fake.find_calls("POST", rf"/webhooks/{APP_ID}/[^/]+") == []
    assert_no_pings(env)


async def test_a_deferred_answer_that_fails_to_send_still_tells_the_user(env: DiscordEnv, caplog: Any) -> None:
    """Once deferred, the "thinking..." message must not be left spinning if the answer
    cannot be sent: the user gets a private note with a log reference."""
    fake = env.fake
    env.adapter.defer_after = 0.05
    env.probe.slow_is_private = True
    fake.fail_next("PATCH", rf"/webhooks/{APP_ID}/[^/]+/messages/@original", 400, {"code": 50035, "message": "bad"})
    with caplog.at_level(logging.ERROR):
        await fake.push("INTERACTION_CREATE", slash(fake, "slow"))
        await fake.wait_for_call("POST", CALLBACK)
        env.probe.release_slow.set()
        note = await fake.wait_for_call("POST", rf"/webhooks/{APP_ID}/[^/]+")
    assert "something went wrong (ref" in note.json["content"]
    assert note.json["flags"] & EPHEMERAL
    assert_no_pings(env)


# -- the context menu --------------------------------------------------------------------


async def test_report_misinformation_context_menu(env: DiscordEnv) -> None:
    fake = env.fake
    target = fake.message_payload("Schools can refuse an EHC assessment if you ask", author=fake.helper_user)
    data = {
        "id": "700000000000000002",
        "name": "Report misinformation",
        "type": 3,
        "guild_id": str(GUILD_ID),
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.member_user))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["data"]["flags"] & EPHEMERAL
    assert call.json["data"]["content"] == "Thank you: the moderators will look at it."
    [(ctx, reported)] = env.probe.reports
    assert reported.text == target["content"]
    assert reported.message_id == target["id"]
    assert reported.author.id == fake.helper_user["id"]
    assert reported.place.scope_id == str(GUILD_ID) and reported.place.id == str(CHANNEL_ID)
    assert reported.link == f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{target['id']}"
    assert ctx.incoming.surface == "action" and ctx.author.id == str(MEMBER_ID)
    assert_no_pings(env)


# -- mapping to the neutral model, sync modes and failures -------------------------------


async def test_place_and_actor_from_a_server_message(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("MESSAGE_CREATE", fake.message_payload("!whereami", author=fake.mod_user))
    call = await fake.wait_for_call("POST", MESSAGES)
    expected = f"scope={GUILD_ID} channel={CHANNEL_ID} direct=False user={fake.mod_user['id']} mod=True via=prefix"
    assert call.json["content"] == expected


async def test_place_from_a_direct_message(env: DiscordEnv) -> None:
    # With one server, a direct message is scoped to it, so private reports reach its moderators.
    fake = env.fake
    dm_channel = 250000000000000001
    fake.channels[dm_channel] = {"id": str(dm_channel), "type": 1, "recipients": [fake.member_user]}
    msg = fake.message_payload("!whereami", author=fake.member_user, channel_id=dm_channel, guild=False)
    await fake.push("MESSAGE_CREATE", msg)
    call = await fake.wait_for_call("POST", rf"/channels/{dm_channel}/messages")
    expected = f"scope={GUILD_ID} channel={dm_channel} direct=True user={MEMBER_ID} mod=False via=prefix"
    assert call.json["content"] == expected


async def test_stale_slash_command_gets_a_polite_answer(env: DiscordEnv) -> None:
    fake = env.fake
    await fake.push("INTERACTION_CREATE", slash(fake, "retired"))
    call = await fake.wait_for_call("POST", CALLBACK)
    assert call.json["data"]["flags"] & EPHEMERAL
    assert "isn't available any more" in call.json["data"]["content"]


async def test_global_sync_when_no_servers_are_configured(tmp_path: Path) -> None:
    async with discord_env(tmp_path, discord={"guild_ids": []}) as env:
        fake = env.fake
        sync = await fake.wait_for_call("PUT", rf"/applications/{APP_ID}/commands")
        assert "help" in {c["name"] for c in sync.json}
        data = {"id": "1", "name": "whereami", "type": 1, "options": []}
        await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.helper_user))
        call = await fake.wait_for_call("POST", CALLBACK)
        assert call.json["data"]["content"].endswith("mod=True via=slash")
        # Global commands also work in a direct message, where nobody is a moderator.
        dm_channel = 250000000000000002
        await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.mod_user, channel_id=dm_channel))
        call = await fake.wait_for_call("POST", CALLBACK, count=2)
        assert (
            call.json["data"]["content"]
            == f"scope={GUILD_ID} channel={dm_channel} direct=True user={MOD_ID} mod=False via=slash"
        )


async def test_failed_sync_is_logged_and_prefix_commands_still_work(tmp_path: Path, caplog: Any) -> None:
    def refuse_sync(fake: FakeDiscord) -> None:
        fake.fail_next(
            "PUT", r"/applications/\d+/guilds/\d+/commands", 403, {"message": "Missing Access", "code": 50001}
        )

    with caplog.at_level(logging.ERROR, logger="bot.adapters.discord"):
        async with discord_env(tmp_path, before_start=refuse_sync) as env:
            fake = env.fake
            await fake.push("MESSAGE_CREATE", fake.message_payload("!whereami", author=fake.member_user))
            await fake.wait_for_call("POST", MESSAGES)
    assert "applications.commands" in caplog.text


async def test_a_rejected_token_stops_the_adapter_with_a_clear_log(tmp_path: Path, caplog: Any) -> None:
    def reject(fake: FakeDiscord) -> None:
        fake.fail_next("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})

    with caplog.at_level(logging.ERROR, logger="bot.adapters.discord"):
        async with discord_env(tmp_path, before_start=reject, wait_ready=False) as env:
            async with asyncio.timeout(10):
                with pytest.raises(Exception, match="Improper token"):
                    await env.task
    assert "rejected the bot token" in caplog.text


async def test_answer_without_reply_when_reading_history_is_denied(env: DiscordEnv) -> None:
    fake = env.fake
    fake.fail_next("POST", MESSAGES, 403, {"message": "Missing Permissions", "code": 50013})
    await fake.push("MESSAGE_CREATE", fake.message_payload("!whereami", author=fake.member_user))
    call = await fake.wait_for_call("POST", MESSAGES)
    assert "message_reference" not in call.json
    assert fake.find_calls("POST", MESSAGES)[0].json["message_reference"]


async def test_rest_calls_carry_the_bot_token(env: DiscordEnv) -> None:
    await env.fake.wait_for_call("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    assert {c.authorization for c in env.fake.calls if c.path != "/gateway"} == {"Bot test-token"}


async def test_a_spec_discord_cannot_take_is_skipped_not_fatal(tmp_path: Path, caplog: Any) -> None:
    from bot.cog import Cog
    from bot.commands import command

    class OddCog(Cog):
        name = "odd"

        @command("odd", help="An option name Discord refuses (upper case).")
        async def odd(self, ctx: Any, Topic: str) -> str:
            return "odd"

    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord"):
        async with discord_env(tmp_path, wait_ready=False) as env:
            env.harness.core.add_cog(OddCog(env.harness.core))
            await until_identified(env)
            sync = await env.fake.wait_for_call("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
            names = {c["name"] for c in sync.json}
            assert "help" in names and "odd" not in names
            await env.fake.push("MESSAGE_CREATE", env.fake.message_payload("!odd x", author=env.fake.member_user))
            call = await env.fake.wait_for_call("POST", MESSAGES)
            assert call.json["content"] == "odd"
    assert "'odd' has no slash form" in caplog.text
