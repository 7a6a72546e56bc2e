"""Card and text rendering for Discord: limits kept, nothing dropped, nobody pinged."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord.render import (
    CONTENT_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    defuse,
    render,
    render_embed,
    render_single,
    split_text,
)
from bot.model import Attachment, Card, CardField, Reply


def embed_size(d: Any) -> int:
    total = len(d.get("title", "")) + len(d.get("description", "")) + len(d.get("footer", {}).get("text", ""))
    return total + sum(len(f["name"]) + len(f["value"]) for f in d.get("fields", []))


def test_card_becomes_an_embed() -> None:
    card = Card(
        title="**Annual reviews**",
        body="See [the code](https://example.org/code).",
        fields=(CardField("When", "Every 12 months", inline=True),),
        url="https://example.org/review",
        footer="**Not** legal advice",
        colour=0xABCDEF,
    )
    d = render_embed(card).to_dict()
    assert d["title"] == "Annual reviews"  # titles and footers show no markup: plain text
    assert d["description"] == "See [the code](https://example.org/code)."
    assert d["fields"] == [{"name": "When", "value": "Every 12 months", "inline": True}]
    assert d["url"] == "https://example.org/review"
    assert d["footer"] == {"text": "Not legal advice"}
    assert d["color"] == 0xABCDEF


def test_a_bad_url_is_left_out_rather_than_failing_the_send() -> None:
    d = render_embed(Card(title="t", url="javascript:alert(1)")).to_dict()
    assert "url" not in d


def test_long_field_values_continue_in_further_fields() -> None:
    lines = "\n".join(f"`!command{i}` – does thing number {i}" for i in range(80))
    d = render_embed(Card(title="Help", fields=(CardField("For moderators", lines),))).to_dict()
    assert len(d["fields"]) > 1
    assert all(len(f["value"]) <= FIELD_VALUE_LIMIT for f in d["fields"])
    assert d["fields"][0]["name"] == "For moderators"
    assert "\n".join(f["value"] for f in d["fields"]).split("\n") == lines.split("\n")


def test_embed_stays_within_the_total_limit() -> None:
    fields = tuple(CardField(f"Field {i}", "x" * 1000) for i in range(30))
    d = render_embed(Card(title="T" * 300, body="b" * 5000, fields=fields, footer="f" * 3000)).to_dict()
    assert embed_size(d) <= EMBED_TOTAL_LIMIT
    assert len(d["title"]) <= 256 and len(d["description"]) <= 4096 and len(d["footer"]["text"]) <= 2048
    d = render_embed(Card(title="Feeds", body="b" * 1000, fields=fields, footer="Not legal advice.")).to_dict()
    assert embed_size(d) <= EMBED_TOTAL_LIMIT
    assert 1 < len(d["fields"]) <= 25
    assert d["fields"][-1]["value"].startswith("(more than fits here")
    assert d["footer"]["text"] == "Not legal advice."


def test_long_text_is_split_not_cut() -> None:
    text = "\n".join(f"line {i} " + "word " * 20 for i in range(100))
    parts = split_text(text)
    assert all(len(p) <= CONTENT_LIMIT for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_reply_with_text_card_and_files() -> None:
    reply = Reply("a" * 2500, card=Card(title="c"), files=(Attachment("d.ics", b"x"),))
    r = render(reply)
    assert [len(p.content or "") for p in r.parts] == [2000, 500]
    assert r.parts[0].embed is None and r.parts[1].embed is not None
    assert [f.filename for f in r.parts[1].files] == ["d.ics"]
    assert dict(r.allowed_mentions.to_dict()) == {"parse": []}


def test_edit_is_one_message() -> None:
    r = render_single(Reply("a" * 2500, card=Card(title="c")))
    assert len(r.parts) == 1
    assert len(r.parts[0].content or "") == CONTENT_LIMIT
    assert r.parts[0].embed is not None


def test_mass_mentions_are_defused_in_text() -> None:
    assert "@everyone" not in defuse("hey @everyone and @HERE")
    assert defuse("mail me at a@example.org") == "mail me at a@example.org"


def test_empty_reply_still_sends_something_valid() -> None:
    r = render(Reply())
    assert len(r.parts) == 1 and r.parts[0].content


def test_role_ping_allows_that_role_only() -> None:
    r = render(Reply("New item"), ping_role_id=123456789012345678)
    assert r.parts[0].content == "<@&123456789012345678> New item"
    assert dict(r.allowed_mentions.to_dict()) == {"parse": [], "roles": [123456789012345678]}


def test_a_card_shows_its_https_image_and_its_timestamp() -> None:
    from datetime import UTC, datetime

    from bot.adapters.discord.render import render_embed
    from bot.model import Card

    when = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    embed = render_embed(Card(title="News", image_url="https://example.org/a.png", timestamp=when))
    data = embed.to_dict()
    assert data["image"]["url"] == "https://example.org/a.png"
    assert data["timestamp"].startswith("2026-11-27T09:30:00")
    # Plain http, a data: address and a date without a timezone are left out.
    for url in ("http://example.org/a.png", "data:image/png;base64,AAAA", "javascript:alert(1)"):
        assert "image" not in render_embed(Card(title="News", image_url=url)).to_dict()
    assert "timestamp" not in render_embed(Card(title="News", timestamp=datetime(2026, 11, 27))).to_dict()
    assert "image" not in render_embed(Card(title="News")).to_dict()


def _embeds(reply: Reply) -> list[dict[str, Any]]:
    return [dict(p.embed.to_dict()) for p in render(reply).parts if p.embed is not None]


def test_a_long_card_body_continues_in_further_messages_not_cut() -> None:
    # `!feeds list` after importing 200 feeds: one line per subscription.
    lines = [f"`{i}` **Feed number {i}** → #general\n    https://feeds.example.org/f{i}.xml" for i in range(200)]
    card = Card(title="Feed subscriptions", body="\n".join(lines), url="https://example.org", footer="End.")
    embeds = _embeds(Reply(card=card))
    assert len(embeds) > 1
    assert all(len(e.get("description", "")) <= 4096 and embed_size(e) <= EMBED_TOTAL_LIMIT for e in embeds)
    assert embeds[0]["title"] == "Feed subscriptions" and all("title" not in e for e in embeds[1:])
    assert embeds[0]["url"] == "https://example.org"
    assert [e.get("footer") for e in embeds] == [None] * (len(embeds) - 1) + [{"text": "End."}]
    shown = "\n".join(e["description"] for e in embeds)
    assert all(f"`{i}` **Feed number {i}**" in shown for i in range(200))


def test_many_fields_continue_in_further_messages_up_to_a_limit() -> None:
    # `!feeds status` after importing 200 feeds: one field per subscription.
    fields = tuple(
        CardField(f"`{i}` Feed {i}", "✅ working\nLast success: 27 Nov 12:00\n" + "x" * 150) for i in range(60)
    )
    embeds = _embeds(Reply(card=Card(title="Feed status", body="Poller: ✅ running.", fields=fields)))
    assert len(embeds) > 1
    assert all(len(e.get("fields", [])) <= 25 and embed_size(e) <= EMBED_TOTAL_LIMIT for e in embeds)
    names = [f["name"] for e in embeds for f in e.get("fields", [])]
    assert names == [f"{i} Feed {i}" for i in range(60)]  # names are plain text on Discord
    # Far too many: ten messages at most, the last saying so.
    many = tuple(CardField(f"F{i}", "y" * 900) for i in range(500))
    embeds = _embeds(Reply(card=Card(title="Feed status", fields=many)))
    assert len(embeds) == 10
    assert embeds[-1]["fields"][-1]["value"].startswith("(more than fits here")


def test_a_card_that_fits_is_still_one_embed() -> None:
    card = Card(title="t", body="b" * 3900, fields=(CardField("f", "v"),), footer="x")
    assert len(render(Reply(card=card)).parts) == 1
