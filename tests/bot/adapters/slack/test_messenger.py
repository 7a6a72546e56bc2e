"""The adapter as the `slack` Messenger: feed posts by channel id, updates, pacing, 429s."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.messenger import DeliveryError, Messenger
from bot.model import Attachment, Card, ChannelRef, Reply
from tests.support.fakes.slack_fake import TEAM_ID
from tests.support.slack import running

FEEDS = ChannelRef("slack", TEAM_ID, "C0FEEDS01")


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


def feed_item(title: str = "New SEND guidance") -> Reply:
    return Reply(card=Card(title=title, body="A summary.", url="https://www.gov.uk/guidance/send"))


async def test_adapter_is_the_registered_slack_messenger(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        assert r.core.messengers["slack"] is r.adapter
        assert isinstance(r.adapter, Messenger)


async def test_feed_post_by_channel_id_then_update(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        ts = await r.core.post(FEEDS, feed_item(), nonce="delivery-1")
        (post,) = r.fake.of("chat.postMessage")
        assert post.args["channel"] == "C0FEEDS01"
        assert post.args["text"] == "New SEND guidance"
        assert post.args["unfurl_links"] is False
        assert ts == "1790000000.000001"
        await r.adapter.edit(FEEDS, ts, feed_item("New SEND guidance (updated)"))
        (update,) = r.fake.of("chat.update")
        assert update.args["channel"] == "C0FEEDS01" and update.args["ts"] == ts
        assert update.args["text"] == "New SEND guidance (updated)"
        assert update.json_arg("blocks")[0]["text"]["text"] == "New SEND guidance (updated)"


async def test_posts_are_paced_per_channel(tmp_path: Path) -> None:
    t = FakeTime()
    async with running(tmp_path, "http", adapter_kw={"post_interval": 1.0, "clock": t.clock, "sleep": t.sleep}) as r:
        await asyncio.gather(*(r.core.post(FEEDS, feed_item(f"item {i}")) for i in range(3)))
        other = ChannelRef("slack", TEAM_ID, "C0OTHER01")
        before = list(t.sleeps)
        await r.core.post(other, feed_item("elsewhere"))
        assert before == [1.0, 1.0]  # the 2nd and 3rd waited a second each
        assert t.sleeps == before  # another channel did not wait
        assert [c.args["text"] for c in r.fake.of("chat.postMessage")] == ["item 0", "item 1", "item 2", "elsewhere"]


async def test_429_retry_after_is_honoured(tmp_path: Path) -> None:
    t = FakeTime()
    async with running(tmp_path, "http", adapter_kw={"post_interval": 1.0, "clock": t.clock, "sleep": t.sleep}) as r:
        r.fake.script("chat.postMessage", status=429, body={"ok": False, "error": "ratelimited"}, Retry_After="7")
        ts = await r.core.post(FEEDS, feed_item())
        first, second = r.fake.of("chat.postMessage")
        assert first.args == second.args
        assert t.sleeps == [7.0]  # waited exactly what Slack asked, once, before the retry
        assert ts  # the retried post's ts


async def test_429_that_never_ends_is_a_retryable_delivery_error(tmp_path: Path) -> None:
    t = FakeTime()
    async with running(tmp_path, "http", adapter_kw={"clock": t.clock, "sleep": t.sleep}) as r:
        for _ in range(10):
            r.fake.script("chat.postMessage", status=429, body={"ok": False, "error": "ratelimited"}, Retry_After="2")
        with pytest.raises(DeliveryError) as caught:
            await r.core.post(FEEDS, feed_item())
        assert not caught.value.permanent
        assert caught.value.retry_after == 2


@pytest.mark.parametrize(("error", "permanent"), [("channel_not_found", True), ("internal_error", False)])
async def test_errors_say_whether_a_retry_could_help(tmp_path: Path, error: str, permanent: bool) -> None:
    async with running(tmp_path, "http") as r:
        r.fake.script("chat.postMessage", body={"ok": False, "error": error})
        with pytest.raises(DeliveryError) as caught:
            await r.core.post(FEEDS, feed_item())
        assert caught.value.permanent is permanent
        assert error in str(caught.value)


async def test_configured_usergroup_ping_is_the_only_mention(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        reply = Reply(card=Card(title="<!channel> urgent", body="x"), ping_role="S0PARENTS")
        await r.core.post(FEEDS, reply)
        (post,) = r.fake.of("chat.postMessage")
        assert post.args["text"].startswith("<!subteam^S0PARENTS> ")
        assert "<!channel>" not in str(post.args)


async def test_files_are_uploaded_to_the_channel(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        reply = Reply("Your dates", files=(Attachment("dates.ics", b"BEGIN:VCALENDAR\r\n", "text/calendar"),))
        await r.core.post(FEEDS, reply)
        (upload,) = r.fake.of("upload")
        assert upload.args["content"] == b"BEGIN:VCALENDAR\r\n"
        (done,) = r.fake.of("files.completeUploadExternal")
        assert done.args["channel_id"] == "C0FEEDS01"
        assert done.json_arg("files")[0]["title"] == "dates.ics"


async def test_send_direct_opens_a_dm(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        await r.adapter.send_direct(TEAM_ID, "UMEMBER01", Reply("A private note"))
        (opened,) = r.fake.of("conversations.open")
        assert opened.args["users"] == "UMEMBER01"
        (post,) = r.fake.of("chat.postMessage")
        assert post.args["channel"] == "DUMEMBER01"


async def test_delete_own_post_and_refusal_for_others(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        ts = await r.core.post(FEEDS, feed_item())
        await r.adapter.delete(FEEDS, ts)
        with pytest.raises(DeliveryError) as caught:
            await r.adapter.delete(FEEDS, "1790000000.999999")
        assert caught.value.permanent


async def test_a_very_long_post_goes_out_as_several_messages(tmp_path: Path) -> None:
    lines = [f"line {i:03d} " + "x" * 200 for i in range(900)]
    async with running(tmp_path, "http") as r:
        ts = await r.core.post(FEEDS, Reply("\n".join(lines)), nonce="long-1")
        posts = r.fake.of("chat.postMessage")
        assert len(posts) > 1 and ts == "1790000000.000001"  # the first message is the post
        shown = "\n".join(b["text"]["text"] for p in posts for b in p.json_arg("blocks"))
        assert all(line in shown for line in lines)


async def test_a_retried_feed_post_whose_first_answer_was_lost_is_not_posted_twice(tmp_path: Path) -> None:
    """Slack posted, but the answer never arrived (a 5xx from a gateway): the delivery is
    retried with the same nonce, and the adapter finds its own post instead of a second one."""
    async with running(tmp_path, "http") as r:
        r.fake.lose_next_response("chat.postMessage")
        with pytest.raises(DeliveryError) as lost:
            await r.core.post(FEEDS, feed_item(), nonce="delivery-7")
        assert not lost.value.permanent
        ts = await r.core.post(FEEDS, feed_item(), nonce="delivery-7")
        assert len(r.fake.history["C0FEEDS01"]) == 1
        assert ts == r.fake.history["C0FEEDS01"][0]["ts"]
        # A different delivery is a new post.
        await r.core.post(FEEDS, feed_item("Another"), nonce="delivery-8")
        assert len(r.fake.history["C0FEEDS01"]) == 2


async def test_a_retry_does_not_take_another_apps_post_with_the_same_nonce(tmp_path: Path) -> None:
    """Another app (a second sendbot, say) in the channel may post with the same delivery
    metadata ('report-1'); the retry must return this bot's own post, not that one."""
    async with running(tmp_path, "http") as r:
        r.fake.lose_next_response("chat.postMessage")
        with pytest.raises(DeliveryError):
            await r.core.post(FEEDS, feed_item(), nonce="report-1")
        ours = r.fake.history["C0FEEDS01"][0]["ts"]
        theirs = {
            "type": "message",
            "text": "their report 1",
            "ts": "1790000000.500000",
            "bot_id": "BOTHER001",
            "metadata": {"event_type": "sendbot_delivery", "event_payload": {"nonce": "report-1"}},
        }
        r.fake.history["C0FEEDS01"].insert(0, theirs)
        ts = await r.core.post(FEEDS, feed_item(), nonce="report-1")
        assert ts == ours
        assert len(r.fake.of("chat.postMessage")) == 1


async def test_a_long_post_whose_later_part_failed_is_posted_whole_on_retry(tmp_path: Path) -> None:
    """The first message went through and a later part's answer was lost: the retry must
    not settle for the first message alone (the rest of the text would never be posted)."""
    lines = [f"line {i:03d} " + "x" * 200 for i in range(900)]
    async with running(tmp_path, "http") as r:
        r.fake.lose_next_response("chat.postMessage", after=1)
        with pytest.raises(DeliveryError):
            await r.core.post(FEEDS, Reply("\n".join(lines)), nonce="long-2")
        sent_before = len(r.fake.of("chat.postMessage"))
        assert sent_before == 2
        await r.core.post(FEEDS, Reply("\n".join(lines)), nonce="long-2")
        posts = r.fake.of("chat.postMessage")[sent_before:]
        shown = "\n".join(b["text"]["text"] for p in posts for b in p.json_arg("blocks"))
        assert all(line in shown for line in lines)


async def test_a_retry_whose_history_check_fails_posts_again_rather_than_losing_the_post(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        r.fake.lose_next_response("chat.postMessage")
        with pytest.raises(DeliveryError):
            await r.core.post(FEEDS, feed_item(), nonce="delivery-9")
        r.fake.script("conversations.history", status=500)
        ts = await r.core.post(FEEDS, feed_item(), nonce="delivery-9")
        assert len(r.fake.of("conversations.history")) == 1
        assert ts == r.fake.history["C0FEEDS01"][0]["ts"] and len(r.fake.history["C0FEEDS01"]) == 2
        # Posted: the next delivery with that nonce is no longer unsure, so no second lookup.
        await r.core.post(FEEDS, feed_item(), nonce="delivery-9")
        assert len(r.fake.of("conversations.history")) == 1
