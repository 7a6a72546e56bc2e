"""Block Kit rendering, inbound text decoding and the app manifest (no network)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from bot.adapters.slack import CATCH_ALL_COMMAND, REPORT_SHORTCUT_ID
from bot.adapters.slack import blocks as sb
from bot.adapters.slack.text import from_slack_text
from bot.markup import escape, link
from bot.model import Card, CardField, Choice, Reply

ROOT = Path(__file__).resolve().parents[4]
PINGS = re.compile(r"<[!@#]")  # any Slack mention or special command


def all_text(msg: sb.SlackMessage) -> str:
    return json.dumps({"text": msg.text, "blocks": msg.blocks}, ensure_ascii=False)


def test_card_renders_header_body_fields_button_and_footer() -> None:
    card = Card(
        title="EHC needs assessment",
        body="**Bold** and a [source](https://example.org/a?x=1&y=2).",
        fields=(CardField("One", "1", inline=True), CardField("Two", "2", inline=True), CardField("Long", "wide")),
        url="https://example.org/page",
        footer="Not legal advice.",
    )
    msg = sb.render(Reply(card=card))
    kinds = [b["type"] for b in msg.blocks]
    assert kinds == ["header", "section", "section", "section", "actions", "context"]
    header, body, inline, wide, actions, context = msg.blocks
    assert header["text"] == {"type": "plain_text", "text": "EHC needs assessment"}
    assert body["text"] == {
        "type": "mrkdwn",
        "text": "*Bold* and a <https://example.org/a?x=1&y=2|source>.",
        "verbatim": True,
    }
    assert [f["text"] for f in inline["fields"]] == ["*One*\n1", "*Two*\n2"]
    assert wide["text"]["text"] == "*Long*\nwide"
    assert actions["elements"][0]["url"] == "https://example.org/page"
    assert actions["elements"][0]["action_id"] == sb.LINK_ACTION_ID
    assert context["elements"][0]["text"] == "Not legal advice."
    assert msg.text == "EHC needs assessment"  # the fallback is always set


def test_text_and_card_both_render_and_fallback_prefers_text() -> None:
    msg = sb.render(Reply(text="Here you are:", card=Card(title="T")))
    assert msg.blocks[0]["text"]["text"] == "Here you are:"
    assert msg.blocks[1]["type"] == "header"
    assert msg.text == "Here you are:"


@pytest.mark.parametrize(
    "hostile",
    [
        "<!everyone>",
        "<!channel>",
        "<!here>",
        "<@U0123ABCD>",
        "<!subteam^S0123|@mods>",
        "<#C0123|general>",
        "<https://evil.example|innocent>",
        "&lt;!channel&gt;",
    ],
)
def test_untrusted_text_cannot_ping_anywhere(hostile: str) -> None:
    reply = Reply(
        text=escape(hostile),
        card=Card(
            title=hostile,
            body=escape(hostile),
            fields=(CardField(escape(hostile), escape(hostile), inline=True), CardField(hostile, escape(hostile))),
            footer=escape(hostile),
        ),
    )
    assert not PINGS.search(all_text(sb.render(reply)))


def test_untrusted_link_url_cannot_break_out_of_the_link() -> None:
    out = sb.mrkdwn(link("Item", "https://evil.example/<!channel>|x"))
    assert out == "<https://evil.example/%3C!channel%3E%7Cx|Item>"
    assert sb.mrkdwn(escape("[a](https://evil.example/<!here>)")).count("<") == 0


@pytest.mark.parametrize(
    ("role", "mention"),
    [
        ("S0PARENTS", "<!subteam^S0PARENTS>"),
        ("<!subteam^S0PARENTS|@parents>", "<!subteam^S0PARENTS>"),
        ("here", "<!here>"),
        ("@channel", "<!channel>"),
        ("everyone", None),
        ("parents", None),
        ("S0X> <!everyone", None),
        ("", None),
    ],
)
def test_only_a_configured_usergroup_or_here_channel_pings(role: str, mention: str | None) -> None:
    assert sb.mention_for(role) == mention
    msg = sb.render(Reply("News", ping_role=role))
    if mention:
        assert msg.text == f"{mention} News"
        assert msg.blocks[0]["text"]["text"] == mention
    else:
        assert not PINGS.search(all_text(msg))


def test_limits_are_respected() -> None:
    long_body = "\n".join(f"line {i} " + "x" * 200 for i in range(200))
    fields = tuple(CardField(f"f{i}", "v", inline=True) for i in range(25)) + tuple(
        CardField(f"g{i}", "w") for i in range(40)
    )
    card = Card(title="T" * 500, body=long_body, fields=fields)
    msg = sb.render(Reply(text="y" * 7000, card=card))
    assert len(msg.blocks) <= sb.MAX_BLOCKS
    for block in msg.blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= sb.MAX_HEADER
        if "text" in block:
            assert len(block["text"]["text"]) <= sb.MAX_TEXT
        assert len(block.get("fields", [])) <= sb.MAX_FIELDS_PER_SECTION
    assert len(msg.text) <= sb.MAX_FALLBACK
    assert msg.blocks[-1]["type"] == "context"  # says it was shortened


def test_split_text_keeps_lines_and_never_cuts_an_escape() -> None:
    text = "&amp;" * 1000  # 5000 characters of escapes
    chunks = sb.split_text(text, 3000)
    assert all(len(c) <= 3000 for c in chunks)
    assert all(not re.search(r"&[a-z]{0,3}…$", c) for c in chunks)
    assert sb.split_text("a\nb\nc", 3) == ["a\nb", "c"]


def test_file_only_reply_renders_no_message() -> None:
    assert sb.render(Reply()).empty


@pytest.mark.parametrize(
    ("slack", "typed"),
    [
        ("!feeds add <https://www.gov.uk/feed.atom>", "!feeds add https://www.gov.uk/feed.atom"),
        ("!feeds add <https://x.org/a?b=1&amp;c=2|x.org>", "!feeds add https://x.org/a?b=1&c=2"),
        ("!report <@U0123|sam> said 1 &lt; 2 &amp; 3 &gt; 2", "!report @sam said 1 < 2 & 3 > 2"),
        ("ask in <#C0123|general> <!here>", "ask in #general @here"),
        ("mail <mailto:a@b.org|a@b.org>", "mail a@b.org"),
    ],
)
def test_inbound_slack_text_is_read_as_typed(slack: str, typed: str) -> None:
    assert from_slack_text(slack) == typed


def test_manifest_matches_what_the_adapter_handles() -> None:
    manifest = json.loads((ROOT / "slack-manifest.json").read_text(encoding="utf-8"))
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {f"/{CATCH_ALL_COMMAND}", "/rights", "/timeline", "/report"}
    assert all(c["should_escape"] is False for c in manifest["features"]["slash_commands"])
    (shortcut,) = manifest["features"]["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == REPORT_SHORTCUT_ID
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # Every Web API method the adapter calls needs one of these.
    assert scopes >= {
        "chat:write",
        "commands",
        "users:read",
        "usergroups:read",
        "files:read",
        "files:write",
        "im:write",
    }
    assert scopes >= {"channels:history", "groups:history", "im:history", "mpim:history"}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
    }
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def _render_within(reply: Reply, seconds: float = 10.0) -> sb.SlackMessage:
    """Render in a daemon thread so that an endless loop fails the test instead of hanging it."""
    result: list[sb.SlackMessage] = []
    worker = threading.Thread(target=lambda: result.append(sb.render(reply)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, "render() did not finish: split_text made no progress"
    return result[0]


def test_a_link_longer_than_a_text_block_does_not_hang_and_keeps_its_label() -> None:
    body = "see [the report](https://example.org/" + "a" * 3100 + ") after"
    msg = _render_within(Reply(card=Card(title="t", body=body)))
    texts = [b["text"]["text"] for b in msg.blocks if b["type"] == "section"]
    assert all(len(t) <= sb.MAX_TEXT for t in texts)
    assert "the report" in " ".join(texts) and "after" in texts[-1]
    assert not any("<" in t for t in texts)  # no half link left behind
    # A long link after text that fills most of a block, and a line of nothing but a bare "<".
    _render_within(Reply(text="x" * 2990 + " [r](https://example.org/" + "b" * 5000 + ")"))
    assert all(len(c) <= 10 for c in sb.split_text("<" + "a" * 50, 10))


def test_backslash_paren_in_a_link_url_cannot_let_raw_text_out() -> None:
    out = sb.mrkdwn(r"[a](https://x/\)><!channel><)")
    assert not PINGS.search(out.replace("<https://x/", ""))
    assert out == "<https://x/)%3E%3C!channel%3E%3C|a>"
    assert sb.mrkdwn(r"[a](https://x/a\\b)") == "<https://x/a%5Cb|a>"  # no private-use character
    assert not re.search("[\ue000-\uf8ff]", sb.mrkdwn(r"[a](https://x/\[\]\*\_)"))


def test_a_reply_too_long_for_one_message_is_split_not_cut() -> None:
    lines = [f"line {i:03d} " + "x" * 200 for i in range(900)]
    msgs = sb.render_all(Reply(text="\n".join(lines)))
    assert len(msgs) > 1
    for msg in msgs:
        assert 0 < len(msg.blocks) <= sb.MAX_BLOCKS
        assert msg.text and len(msg.text) <= sb.MAX_FALLBACK
    shown = "\n".join(b["text"]["text"] for m in msgs for b in m.blocks)
    assert all(line in shown for line in lines)
    assert "shortened" not in shown
    # A reply that fits is the same single message render() gives.
    assert sb.render_all(Reply(text="short")) == [sb.render(Reply(text="short"))]


def test_settled_blocks_drop_only_the_choice_buttons_and_say_which_was_pressed() -> None:
    reply = Reply(
        "Preview <b>",
        choices=(Choice("a", "Confirm", "t1", "primary"), Choice("a", "Cancel", "t2")),
    )
    blocks = sb.render(reply).blocks
    link_row = {"type": "actions", "elements": [{"type": "button", "action_id": "sendbot_link", "url": "https://x"}]}
    settled = sb.settled_blocks([*blocks, link_row], "Con<firm> & *co*")
    assert [b["type"] for b in settled] == ["section", "actions", "context"]
    assert settled[1] == link_row  # a row of links is not a set of choices
    said = settled[-1]["elements"][0]["text"]
    assert said.startswith("You pressed *Con&lt;firm&gt; &amp; ")  # escaped: a label can't ping or link
