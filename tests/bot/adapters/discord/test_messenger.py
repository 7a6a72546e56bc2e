"""Outbound delivery through the Discord adapter (what feeds and notices use)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter, delivery_nonce
from bot.messenger import DeliveryError, Messenger
from bot.model import Card, CardField, ChannelRef, Reply
from tests.support.discord import DiscordEnv, discord_env, until_identified
from tests.support.fakes.discord_fake import ALERT_ROLE_ID, CHANNEL_ID, GUILD_ID, MEMBER_ID
from tests.support.harness import Harness

NEWS = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[DiscordEnv]:
    async with discord_env(tmp_path) as e:
        yield e


def feed_reply(title: str = "New SEND guidance", **kw: Any) -> Reply:
    return Reply(card=Card(title=title, body="Summary.", url="https://example.org/item"), **kw)


async def test_adapter_is_the_discord_messenger(env: DiscordEnv) -> None:
    assert isinstance(env.adapter, Messenger)
    assert env.harness.core.messengers["discord"] is env.adapter


async def test_core_post_goes_to_the_channel_by_id(env: DiscordEnv) -> None:
    mid = await env.harness.core.post(NEWS, feed_reply(), nonce="delivery-1")
    call = await env.fake.wait_for_call("POST", MESSAGES)
    assert call.json["embeds"][0]["title"] == "New SEND guidance"
    assert call.json["allowed_mentions"] == {"parse": []}
    assert mid in {str(i) for i in env.fake.messages}


async def test_a_retried_send_with_the_same_nonce_posts_once(env: DiscordEnv) -> None:
    first = await env.adapter.post(NEWS, feed_reply(), nonce="feed:42:channel:7")
    # The platform confirmed, but say the bot crashed before recording it: it sends again.
    second = await env.adapter.post(NEWS, feed_reply(), nonce="feed:42:channel:7")
    assert first == second
    calls = env.fake.find_calls("POST", MESSAGES)
    assert len(calls) == 2
    assert calls[0].json["nonce"] == calls[1].json["nonce"] == "feed:42:channel:7"
    assert calls[0].json["enforce_nonce"] is True
    assert [m for m in env.fake.messages.values() if m["channel_id"] == str(CHANNEL_ID)] == [
        env.fake.messages[int(first)]
    ]


def test_long_delivery_ids_get_a_stable_short_nonce() -> None:
    long = "subscription-1234567890:item-abcdefabcdefabcdef"
    assert delivery_nonce(long) == delivery_nonce(long)
    assert len(delivery_nonce(long)) == 25
    assert delivery_nonce(long) != delivery_nonce(long + "x")
    assert delivery_nonce("short-1") == "short-1"


async def test_edit_replaces_a_post(env: DiscordEnv) -> None:
    mid = await env.adapter.post(NEWS, feed_reply("Draft title"), nonce="d-2")
    await env.adapter.edit(NEWS, mid, feed_reply("Corrected title"))
    call = await env.fake.wait_for_call("PATCH", rf"{MESSAGES}/{mid}")
    assert call.json["embeds"][0]["title"] == "Corrected title"
    assert call.json["allowed_mentions"] == {"parse": []}
    assert env.fake.messages[int(mid)]["embeds"][0]["title"] == "Corrected title"


async def test_delete_removes_a_post(env: DiscordEnv) -> None:
    mid = await env.adapter.post(NEWS, feed_reply(), nonce="d-3")
    await env.adapter.delete(NEWS, mid)
    assert int(mid) not in env.fake.messages


@pytest.mark.parametrize("role", ["Feed alerts", "feed alerts", str(ALERT_ROLE_ID), f"<@&{ALERT_ROLE_ID}>"])
async def test_configured_role_ping_is_the_only_mention_allowed(env: DiscordEnv, role: str) -> None:
    reply = Reply(f"New item for <@{MEMBER_ID}> @everyone", ping_role=role)
    await env.adapter.post(NEWS, reply, nonce="d-4")
    call = await env.fake.wait_for_call("POST", MESSAGES)
    assert call.json["content"].startswith(f"<@&{ALERT_ROLE_ID}> ")
    assert call.json["allowed_mentions"] == {"parse": [], "roles": [ALERT_ROLE_ID]}


@pytest.mark.parametrize("role", ["everyone", "@everyone", "here", str(GUILD_ID), "No such role"])
async def test_everyone_or_unknown_role_never_pings(env: DiscordEnv, role: str, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord"):
        await env.adapter.post(NEWS, Reply("Item", ping_role=role), nonce="d-5")
    call = await env.fake.wait_for_call("POST", MESSAGES)
    assert call.json["allowed_mentions"] == {"parse": []}
    assert "<@&" not in call.json["content"]
    assert "posting without a ping" in caplog.text


async def test_rate_limit_is_honoured_and_the_send_retried(env: DiscordEnv) -> None:
    env.fake.rate_limit_next("POST", MESSAGES, retry_after=0.25)
    mid = await env.adapter.post(NEWS, feed_reply(), nonce="d-6")
    limited, retried = env.fake.find_calls("POST", MESSAGES)
    assert limited.status == 429 and retried.status == 200
    assert retried.at - limited.at >= 0.25
    assert retried.json["nonce"] == limited.json["nonce"]
    assert mid in {str(i) for i in env.fake.messages}


async def test_a_rate_limit_that_outlasts_discord_py_s_retries_is_a_temporary_failure(env: DiscordEnv) -> None:
    # Seen with three instances on one token (bench/instances.py): discord.py tries a 429'd
    # call five times, then raises the 429; the post must be retried later, not lost.
    for _ in range(6):
        env.fake.rate_limit_next("POST", MESSAGES, retry_after=0.01)
    with pytest.raises(DeliveryError) as info:
        await env.adapter.post(NEWS, feed_reply(), nonce="d-6b")
    assert not info.value.permanent
    assert [c.status for c in env.fake.find_calls("POST", MESSAGES)] == [429] * 5
    assert not env.fake.messages


async def test_unknown_channel_is_a_permanent_failure(env: DiscordEnv) -> None:
    gone = ChannelRef("discord", str(GUILD_ID), "299999999999999999")
    with pytest.raises(DeliveryError) as info:
        await env.adapter.post(gone, feed_reply(), nonce="d-7")
    assert info.value.permanent


async def test_server_error_is_a_temporary_failure(env: DiscordEnv) -> None:
    env.fake.fail_next("POST", MESSAGES, 400, {"message": "Invalid Form Body", "code": 50035})
    with pytest.raises(DeliveryError) as info:
        await env.adapter.post(NEWS, feed_reply(), nonce="d-8")
    assert info.value.permanent  # a 400 will fail the same way again
    env.fake.fail_next("POST", MESSAGES, 503, {"message": "Service Unavailable", "code": 0})
    with pytest.raises(DeliveryError) as info:
        await env.adapter.post(NEWS, feed_reply(), nonce="d-9")
    assert not info.value.permanent


async def test_not_a_channel_id_is_refused(env: DiscordEnv) -> None:
    with pytest.raises(DeliveryError) as info:
        await env.adapter.post(ChannelRef("discord", str(GUILD_ID), "general"), feed_reply())
    assert info.value.permanent


async def test_send_direct_opens_a_dm(env: DiscordEnv) -> None:
    mid = await env.adapter.send_direct(str(GUILD_ID), str(MEMBER_ID), Reply("A private notice"))
    dm = await env.fake.wait_for_call("POST", r"/users/@me/channels")
    call = await env.fake.wait_for_call("POST", r"/channels/\d+/messages")
    assert call.json["content"] == "A private notice"
    assert call.path != f"/channels/{CHANNEL_ID}/messages" and dm.status == 200
    assert mid in {str(i) for i in env.fake.messages}


async def test_posting_before_login_is_a_temporary_failure(tmp_path: Path) -> None:
    h = await Harness.create(tmp_path, {"discord": {"token": "x"}}, cog_modules=["cogs.help"])
    try:
        adapter = DiscordAdapter(h.core)
        with pytest.raises(DeliveryError) as info:
            await adapter.post(NEWS, feed_reply())
        assert not info.value.permanent
    finally:
        await h.close()


async def test_message_content_refused_falls_back_to_slash_commands(tmp_path: Path, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord"):
        async with discord_env(tmp_path, grant_message_content=False, wait_ready=False) as env:
            await until_identified(env)
            first, second = env.fake.identifies
            assert first["intents"] & (1 << 15)
            assert not second["intents"] & (1 << 15)
            # Slash commands still work on the new session.
            data = {"id": "1", "name": "secret", "type": 1, "guild_id": str(GUILD_ID), "options": []}
            await env.fake.push("INTERACTION_CREATE", env.fake.interaction_payload(data, by=env.fake.member_user))
            call = await env.fake.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
            assert call.json["data"]["content"] == "only you can see this"
    assert "Message Content intent" in caplog.text
    assert "Privileged Gateway Intents" in caplog.text


async def test_oversized_content_is_split_into_messages_discord_accepts(env: DiscordEnv) -> None:
    long_text = "\n".join(f"Item {i}: " + "word " * 30 for i in range(40))
    fields = tuple(CardField(f"Part {i}", "x" * 1000) for i in range(12))
    reply = Reply(long_text, card=Card(title="Digest", body="b" * 3000, fields=fields, footer="Not legal advice."))
    await env.adapter.post(NEWS, reply, nonce="digest-1")
    calls = env.fake.find_calls("POST", MESSAGES)
    assert len(calls) >= 3 and all(c.status == 200 for c in calls)
    assert len({c.json["nonce"] for c in calls}) == len(calls)  # each part its own nonce
    assert calls[-1].json["embeds"][0]["footer"]["text"] == "Not legal advice."


async def test_a_card_longer_than_one_embed_is_sent_whole_in_several(env: DiscordEnv) -> None:
    lines = [f"`{i}` **Feed number {i}** → #general\n    https://feeds.example.org/f{i}.xml" for i in range(200)]
    fields = tuple(CardField(f"Feed {i}", "✅ working\nLast success: 27 Nov 12:00") for i in range(60))
    card = Card(title="Feed subscriptions", body="\n".join(lines), fields=fields, footer="Not legal advice.")
    await env.adapter.post(NEWS, Reply(card=card), nonce="long-card")
    calls = env.fake.find_calls("POST", MESSAGES)
    assert len(calls) > 2 and all(c.status == 200 for c in calls)  # the fake enforces Discord's limits
    embeds = [e for c in calls for e in c.json["embeds"]]
    shown = "\n".join(e.get("description", "") for e in embeds)
    assert all(f"`{i}` **Feed number {i}**" in shown for i in range(200))
    assert [f["name"] for e in embeds for f in e.get("fields", [])] == [f"Feed {i}" for i in range(60)]
    assert embeds[-1]["footer"]["text"] == "Not legal advice."
