"""HTTP mode: real slack_bolt behind the adapter's aiohttp server, real slack_sdk calling a
loopback fake of the Web API, requests signed as Slack signs them."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from tests.support.fakes.slack_fake import (
    BOT_USER_ID,
    TEAM_ID,
    form_body,
    interactive_body,
    message_event,
    message_shortcut,
    sign,
    slash_command,
)
from tests.support.slack import ADMIN, GROUP_MOD, HOSTILE, LISTED_MOD, MEMBER, SECRET, Running, running

FORM = "application/x-www-form-urlencoded"


async def send(r: Running, body: str, content_type: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    hdrs = {"Content-Type": content_type, **(sign(SECRET, body) if headers is None else headers)}
    async with aiohttp.ClientSession() as s, s.post(r.events_url, data=body.encode(), headers=hdrs) as resp:
        return resp.status, await resp.text()


async def slash(r: Running, command: str, text: str, user_id: str = MEMBER, **kw: str) -> tuple[int, str]:
    return await send(r, form_body(slash_command(command, text, user_id=user_id, **kw)), FORM)


async def event(r: Running, text: str, user_id: str = MEMBER, **kw: Any) -> tuple[int, str]:
    return await send(r, json.dumps(message_event(text, user_id=user_id, **kw)), "application/json")


def api_calls(r: Running) -> list[str]:
    """Calls the bot made because of a request (start-up's auth.test and the like excluded)."""
    return [c.method for c in r.fake.calls if c.method not in {"auth.test"}]


async def test_slash_command_is_acked_before_the_cog_runs(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        # Had the ack waited for the cog, this would hang (the cog waits for `release`).
        status, _ = await asyncio.wait_for(slash(r, "/sendbot", "slow"), 5)
        assert status == 200
        await asyncio.wait_for(r.probe.started.wait(), 5)
        assert not r.fake.of("chat.postMessage")
        r.probe.release.set()
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["channel"] == "C0GENERAL"
        assert post.args["text"] == "done waiting"


async def test_per_command_slash_reads_as_the_named_command(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        assert (await slash(r, "/rights", "tribunal"))[0] == 200
        (post,) = await r.fake.wait_for("chat.postMessage")
        ctx = r.probe.seen[-1]
        assert ctx.incoming.surface == "slash"
        assert ctx.incoming.place.scope_id == TEAM_ID and ctx.incoming.place.id == "C0GENERAL"
        assert ctx.author.id == MEMBER and ctx.author.name == "Parent" and not ctx.author.is_moderator
        blocks = post.json_arg("blocks")
        assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Your rights: tribunal"}}


async def test_catch_all_with_nothing_shows_help(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await slash(r, "/sendbot", "")
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.json_arg("blocks")[0]["text"]["text"] == "SEND forum bot: commands"


async def test_unknown_slash_text_gets_a_private_hint(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await slash(r, "/sendbot", "42 things")
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert eph.args["user"] == MEMBER
        assert "/sendbot help" in eph.args["text"]
        assert not r.fake.of("chat.postMessage")


async def test_message_command_replies_in_channel_and_thread(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        status, _ = await event(r, "!rights ehcp", thread_ts="1790000000.000500")
        assert status == 200
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["channel"] == "C0GENERAL"
        assert post.args["thread_ts"] == "1790000000.000500"
        assert post.args["text"] == "Your rights: ehcp"
        assert post.args["link_names"] is False
        assert post.token == r.fake.bot_token


async def test_ordinary_chat_and_bot_messages_are_ignored(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "hello everyone, any advice on EHCPs?")
        await event(r, "!rights ehcp", user_id=BOT_USER_ID)  # the bot itself
        await event(r, "!rights ehcp", subtype="message_changed")
        await event(r, "!rights ehcp", bot_id="B0OTHER")
        # A command afterwards is answered: had the ones above been, they'd come first.
        await event(r, "!whisper", ts="1790000000.900009")
        await r.fake.wait_for("chat.postEphemeral")
        assert "chat.postMessage" not in api_calls(r)


async def test_ephemeral_reply_uses_post_ephemeral(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!whisper")
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert eph.args["channel"] == "C0GENERAL" and eph.args["user"] == MEMBER
        assert eph.args["text"] == "only for you"


@pytest.mark.parametrize("who", [ADMIN, GROUP_MOD, LISTED_MOD])
async def test_moderators_are_admins_group_members_or_listed(tmp_path: Path, who: str) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!purge", user_id=who)
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["text"] == "purged"


async def test_member_is_refused_a_moderator_command(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await slash(r, "/sendbot", "purge")
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert eph.args["user"] == MEMBER
        assert "for the forum's moderators" in eph.args["text"]
        assert not r.fake.of("chat.postMessage")


async def test_unknown_user_is_not_a_moderator(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!purge", user_id="U0NOBODY")
        (refusal,) = await r.fake.wait_for("chat.postEphemeral")
        # The refusal itself, not a "something went wrong" note from a lookup that failed.
        assert "is for the forum's moderators" in refusal.args["text"]
        assert not r.fake.of("chat.postMessage")


async def test_hostile_text_never_pings(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!feedcard")
        (post,) = await r.fake.wait_for("chat.postMessage")
        everything = json.dumps(post.args)
        for ping in ("<!everyone>", "<!channel>", "<!here>", "<@U0VICTIM>", "<https://evil"):
            assert ping not in everything
        assert "&lt;!channel&gt;" in post.args["text"]
        assert HOSTILE.startswith("<!everyone>")


async def test_report_command_cannot_delete_the_users_message_and_says_so(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!report the school said EHCPs end at 16", ts="1790000000.777777")
        ephs = await r.fake.wait_for("chat.postEphemeral", 2)
        (delete,) = r.fake.of("chat.delete")
        assert delete.args == {"channel": "C0GENERAL", "ts": "1790000000.777777"}
        assert "moderators will look" in ephs[0].args["text"]
        assert "couldn't remove your message" in ephs[1].args["text"]
        assert r.probe.seen[-1].incoming.text == "!report the school said EHCPs end at 16"


async def test_message_shortcut_files_a_report(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        payload = message_shortcut(reporter_id=MEMBER, author_id=ADMIN, text="EHCPs stop at 18 &lt;honest&gt;")
        status, _ = await send(r, interactive_body(payload), FORM)
        assert status == 200
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert eph.args["user"] == MEMBER and "moderators have been told" in eph.args["text"]
        ((ctx, reported),) = r.reports
        assert ctx.author.id == MEMBER and ctx.incoming.surface == "action"
        assert reported.text == "EHCPs stop at 18 <honest>"
        assert reported.author.id == ADMIN
        assert reported.place.scope_id == TEAM_ID and reported.place.id == "C0GENERAL"
        assert reported.message_id == "1790000000.800001"
        assert reported.link == "https://forum.slack.com/archives/C0GENERAL/p1790000000800001"


async def test_slash_reply_where_bot_is_not_a_member_goes_via_response_url(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        r.fake.not_joined.add("C0PRIVATE")
        await slash(r, "/rights", "", channel_id="C0PRIVATE", response_url=r.fake.response_url())
        (resp,) = await r.fake.wait_for("response_url")
        assert resp.args["response_type"] == "in_channel"
        assert resp.args["text"] == "Your rights: ehcp"


def _bad_headers(kind: str, body: str) -> dict[str, str]:
    now = int(time.time())
    if kind == "missing":
        return {}
    if kind == "bad":
        return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64}
    if kind in ("malformed-timestamp", "huge-timestamp"):
        stamp = "12e4x" if kind == "malformed-timestamp" else "9" * 400
        return {**sign(SECRET, body), "X-Slack-Request-Timestamp": stamp}
    if kind == "wrong-secret":
        return sign("not-the-secret", body)
    if kind == "tampered":
        return sign(SECRET, body.replace("purge", "rights"))
    assert kind == "stale"
    return sign(SECRET, body, timestamp=now - 10 * 60)  # correctly signed, ten minutes old


@pytest.mark.parametrize(
    "kind", ["missing", "bad", "wrong-secret", "tampered", "stale", "malformed-timestamp", "huge-timestamp"]
)
async def test_unsigned_or_badly_signed_requests_are_rejected(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(tmp_path, "http") as r:
        body = form_body(slash_command("/sendbot", "purge", user_id=ADMIN))
        before = len(r.fake.calls)
        status, _ = await send(r, body, FORM, headers=_bad_headers(kind, body))
        assert status == 401
        assert r.fake.calls[before:] == []
        assert "Traceback" not in caplog.text and not [x for x in caplog.records if x.exc_info]
        # A correctly signed request afterwards is served, so the 401 was the signature's doing.
        await slash(r, "/sendbot", "whisper")
        await r.fake.wait_for("chat.postEphemeral")
        assert not r.fake.of("chat.postMessage")


async def test_ephemeral_where_bot_is_not_a_member_goes_via_response_url(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        r.fake.not_joined.add("C0PRIVATE")
        await slash(r, "/sendbot", "whisper", channel_id="C0PRIVATE", response_url=r.fake.response_url())
        (resp,) = await r.fake.wait_for("response_url")
        assert resp.args["response_type"] == "ephemeral"
        assert resp.args["text"] == "only for you"


async def test_user_lookups_are_cached(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        for n in range(3):
            await event(r, "!whisper", ts=f"1790000000.90000{n}")
        await r.fake.wait_for("chat.postEphemeral", 3)
        assert len(r.fake.of("users.info")) == 1
        assert len(r.fake.of("usergroups.users.list")) == 1


async def test_events_url_verification_challenge(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
        status, text = await send(r, body, "application/json")
        assert status == 200
        assert "3eZbrw1aBm2rZgRNFdxV" in text


async def test_hostile_slash_text_is_answered_without_pings(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await slash(r, "/sendbot", "<!channel> " + "x" * 5000)
        await slash(r, "/rights", "<!everyone>")
        eph = (await r.fake.wait_for("chat.postEphemeral"))[0]
        (post,) = await r.fake.wait_for("chat.postMessage")
        for call in (eph, post):
            assert not re.search(r"<[!@#]", json.dumps(call.args))


async def test_private_answer_with_a_file_sends_the_file_by_dm(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!privatefile")
        (done,) = await r.fake.wait_for("files.completeUploadExternal")
        assert done.args["channel_id"] == f"D{MEMBER}"
        (eph,) = r.fake.of("chat.postEphemeral")
        assert eph.args["text"] == "Here is your file"


async def test_a_redelivered_event_runs_its_command_once(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        body = message_event("!whisper", user_id=MEMBER, ts="1790000000.424242")
        context = SimpleNamespace(team_id=TEAM_ID)
        # Called directly (as bolt would) so that the second delivery cannot race the first.
        await r.adapter._on_message(body["event"], body, context)
        await r.adapter._on_message(dict(body["event"]), body, context)  # Slack's retry
        assert len(r.fake.of("chat.postEphemeral")) == 1
        assert len(r.probe.seen) == 1


async def test_a_failed_user_lookup_is_logged_without_the_user_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(tmp_path, "http") as r:
        with caplog.at_level(logging.WARNING, logger="bot.adapters.slack.people"):
            await event(r, "!whisper", user_id="U0NOBODY42")
            await r.fake.wait_for("chat.postEphemeral")
        assert "users.info failed: user_not_found" in caplog.text
        assert "U0NOBODY42" not in caplog.text


@pytest.mark.parametrize("surface", ["slash", "message", "shortcut"])
async def test_an_unexpected_error_in_a_handler_still_answers_with_a_reference(
    tmp_path: Path, surface: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure outside the dispatcher (here a user lookup that blows up) is logged with a
    reference and the person is told privately, rather than left with silence; the adapter
    goes on serving."""
    async with running(tmp_path, "http") as r:
        real_actor = r.adapter.people.actor
        calls = 0

        async def broken_once(*args: object, **kw: object) -> object:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("kaboom")
            return await real_actor(*args, **kw)  # type: ignore[arg-type]

        r.adapter.people.actor = broken_once  # type: ignore[method-assign, assignment]
        with caplog.at_level(logging.ERROR):
            if surface == "slash":
                await slash(r, "/sendbot", "help", response_url=r.fake.response_url())
                (note,) = await r.fake.wait_for("response_url")
                assert note.args["response_type"] == "ephemeral"
                text = note.args["text"]
            elif surface == "message":
                await event(r, "!help")
                (note,) = await r.fake.wait_for("chat.postEphemeral")
                assert note.args["user"] == MEMBER
                text = note.args["text"]
            else:
                body = interactive_body(
                    message_shortcut(
                        reporter_id=MEMBER, author_id=ADMIN, text="bad info", response_url=r.fake.response_url()
                    )
                )
                await send(r, body, FORM)
                (note,) = await r.fake.wait_for("response_url")
                text = note.args["text"]
        ref = re.search(r"ref `([0-9a-f]{6})`", text)
        assert ref, text
        assert "kaboom" not in text
        assert f"ref={ref.group(1)}" in caplog.text
        assert not r.fake.of("chat.postMessage")
        # Still serving.
        await slash(r, "/sendbot", "whisper")
        await r.fake.wait_for("chat.postEphemeral", count=2 if surface == "message" else 1)


async def test_a_configured_http_path_is_served_and_the_default_is_not(tmp_path: Path) -> None:
    async with running(tmp_path, "http", http_path="/hooks/slack") as r:
        body = form_body(slash_command("/sendbot", "whisper", user_id=MEMBER))
        base = f"http://127.0.0.1:{r.adapter.http_port}"
        headers = {"Content-Type": FORM, **sign(SECRET, body)}
        async with aiohttp.ClientSession() as s:
            async with s.post(base + "/slack/events", data=body.encode(), headers=headers) as resp:
                assert resp.status == 404
            async with s.post(base + "/hooks/slack", data=body.encode(), headers=headers) as resp:
                assert resp.status == 200
        await r.fake.wait_for("chat.postEphemeral")


async def test_a_file_asked_for_in_a_thread_is_uploaded_into_that_thread(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await event(r, "!calendar", thread_ts="1790000000.000500")
        (post,) = await r.fake.wait_for("chat.postMessage")
        (done,) = await r.fake.wait_for("files.completeUploadExternal")
        assert post.args["thread_ts"] == "1790000000.000500" and post.args["text"] == "Your dates"
        assert done.args["channel_id"] == "C0GENERAL"
        assert done.args["thread_ts"] == "1790000000.000500"
        (upload,) = r.fake.of("upload")
        assert upload.args["content"] == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize("who,method", [(ADMIN, "users.info"), (GROUP_MOD, "usergroups.users.list")])
async def test_a_rate_limited_moderator_lookup_is_not_remembered(tmp_path: Path, who: str, method: str) -> None:
    """A 429 (or a Slack outage) while checking who someone is refuses that one command, as
    it must, but is not cached: the moderator's next command is checked afresh."""
    async with running(tmp_path, "http") as r:
        r.fake.script(method, status=429, body={"ok": False, "error": "ratelimited"}, Retry_After="1")
        await event(r, "!purge", user_id=who, ts="1790000000.000101")
        (refusal,) = await r.fake.wait_for("chat.postEphemeral")
        assert "for the forum's moderators" in refusal.args["text"]
        await event(r, "!purge", user_id=who, ts="1790000000.000102")
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["text"] == "purged"
