"""Pure parts of the pipeline: keys, filters, markup cutting, schedule, rendering, config."""

from __future__ import annotations

import random
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load
from feeds import scheduler
from feeds.fetch import parse_max_age, parse_retry_after
from feeds.filters import KeywordFilter, matches, parse_keywords
from feeds.markdown import cut, html_to_markup
from feeds.normalise import clean_link, item_key, story_key
from feeds.render import defang, render_item
from feeds.settings import FeedsSettings
from storage.feeds import StoredItem

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("https://WWW.Example.org/a/?utm_source=rss&utm_medium=rss#comments", "https://www.example.org/a/"),
        ("https://e.org/p?id=5&fbclid=abc&gclid=x", "https://e.org/p?id=5"),
        ("http://e.org:80/x", "http://e.org/x"),
        ("https://e.org:8443/x", "https://e.org:8443/x"),
        ("https://e.org", "https://e.org/"),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("", None),
        ("http://[::1", None),
    ],
)
def test_clean_link(raw: str, clean: str | None) -> None:
    assert clean_link(raw) == clean


def test_keys_prefer_guid_then_link_then_hash() -> None:
    assert item_key("g-1", "https://e.org/a", "T", None) == "guid:g-1"
    assert item_key(None, "https://e.org/a?utm_campaign=z", "T", None) == "link:https://e.org/a"
    hashed = item_key(None, None, "Title", "2026-11-01T00:00:00Z")
    assert hashed.startswith("hash:") and hashed == item_key("", "", "Title", "2026-11-01T00:00:00Z")
    assert hashed != item_key(None, None, "Title", "2026-11-02T00:00:00Z")
    assert story_key("https://e.org/a#x", "T", None) == story_key("https://E.org/a?utm_source=y", "Other", None)


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("SEND", "New SEND guidance", True),
        ("SEND", "Send us your views", False),
        ("SEND", "Ask your SENDCo", True),
        ("EHC", "EHCP timescales", True),
        ("EHC", "Teacher training", False),
        ("disabled", "Disabled children's services", True),
        ("disabled", "Undisabled", False),
        ("high needs", "high\nneeds funding", True),
        ("alternative provision", "Alternative Provision reforms", True),
    ],
)
def test_keyword_matching(keyword: str, text: str, hit: bool) -> None:
    assert matches(keyword, text) is hit


def test_filter_include_and_exclude() -> None:
    flt = KeywordFilter(parse_keywords("SEND, EHC"), parse_keywords(["tribunal"]))
    assert flt.accepts("SEND update", "")
    assert not flt.accepts("Teacher pay", "nothing here")
    assert not flt.accepts("SEND tribunal results", "")
    assert parse_keywords(" a ,, b , a ") == ["a", "b"]


def test_html_becomes_escaped_markup_with_safe_links_only() -> None:
    html = (
        "<h2>Head</h2><p>Text with <b>bold</b> and *stars* "
        "<a href='https://e.org/x'>a link</a> <a href='javascript:evil()'>bad</a></p>"
        "<ul><li>one</li></ul><script>alert(1)</script><style>p{}</style><img src='x'>"
    )
    out = html_to_markup(html)
    assert "Head" in out and "\\*stars\\*" in out and "[a link](https://e.org/x)" in out
    assert "javascript" not in out and "alert" not in out and "p{}" not in out and "- one" in out


def test_cut_respects_words_and_links() -> None:
    text = "Word " * 10 + "[a long link label](https://e.org/page) tail"
    for budget in range(5, len(text)):
        out = cut(text, budget)
        assert len(out) <= budget
        assert out.count("[") == out.count("](")  # never half a link
    assert cut("short", 50) == "short"
    assert cut("a" * 100, 10) == "a" * 9 + "…"


def test_schedule_jitter_backoff_and_pause() -> None:
    rng = random.Random(1)
    for _ in range(50):
        nxt = scheduler.after_success(NOW, 10, rng=rng)
        assert timedelta(minutes=10) <= nxt - NOW <= timedelta(minutes=11)
    assert scheduler.after_success(NOW, 10, max_age=3600, rng=rng) - NOW == timedelta(hours=1)
    delays = [scheduler.after_failure(NOW, 10, n, rng=random.Random(0)) - NOW for n in range(1, 8)]
    assert delays == sorted(delays) and delays[0] < timedelta(minutes=12)
    assert delays[-1] <= scheduler.MAX_BACKOFF * 1.1
    assert scheduler.after_failure(NOW, 10, 1, retry_after=7200) - NOW >= timedelta(hours=2)
    assert not scheduler.should_pause(NOW, NOW - timedelta(hours=23), 24)
    assert scheduler.should_pause(NOW, NOW - timedelta(hours=24), 24)


def test_server_hints() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Fri, 27 Nov 2026 13:00:00 GMT", NOW) == 3600
    assert parse_retry_after("soon", NOW) is None
    assert parse_max_age("public, max-age=300") == 300
    assert parse_max_age("no-store, max-age=300") is None
    assert parse_max_age("max-age=999999999") == 24 * 3600


def test_render_defangs_mentions() -> None:
    assert "@everyone" not in defang("hi @everyone and @here <@123> <#9> <@&5> <!channel>")
    item = StoredItem(1, 1, "@everyone look", "https://e.org/a", "x " * 400, "2026-11-20T09:00:00Z", None, "SNJ")
    reply = render_item(item, tz=ZoneInfo("Europe/London"), summary_chars=100)
    assert reply.card is not None and reply.ping_role is None
    assert "@everyone" not in reply.card.title and len(reply.card.body) <= 100
    assert reply.card.footer == "SNJ" and reply.card.url == "https://e.org/a"
    # The date is the card's timestamp, in the forum's timezone (each adapter shows it).
    assert reply.card.timestamp == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert reply.card.timestamp.tzinfo == ZoneInfo("Europe/London")


def test_defaults_without_a_file_match_the_example_config(tmp_path: Path) -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    defaults = load(None, environ={})
    from_example = load(ROOT / "config.example.toml", environ={})
    assert defaults.section(FeedsSettings).subscriptions == from_example.section(FeedsSettings).subscriptions
    assert len(example["feeds"]["subscriptions"]) == 2
    urls = [s.url for s in defaults.section(FeedsSettings).subscriptions]
    assert urls == [
        "https://www.specialneedsjungle.com/feed/",
        "https://www.gov.uk/government/organisations/department-for-education.atom",
    ]
    empty = tmp_path / "c.toml"
    empty.write_text("[bot]\nprefix = '!'\n")
    assert load(empty, environ={}).section(FeedsSettings).subscriptions == []


def test_latest_is_zero_everywhere_so_a_new_channel_is_not_flooded() -> None:
    # Issue 17: `latest = 3` in the built-in defaults posted six old stories into a new
    # forum's channel at its first start. Now every default, and the example, says 0.
    defaults = load(None, environ={}).section(FeedsSettings).subscriptions
    assert [s.latest for s in defaults] == [0, 0]
    example = (ROOT / "config.example.toml").read_text()
    assert "latest = 0" in example and "latest = 3" not in example
    assert "a new forum's channel starts quiet" in example


def test_sendbot_check_reports_unusable_feed_addresses(tmp_path: Path) -> None:
    from bot.checks import run_checks
    from bot.config import parse

    cfg = parse(
        {
            "feeds": {
                "subscriptions": [
                    {"url": "http://127.0.0.1/feed", "channel": "general"},
                    {"url": "https://e.org/feed", "channel": "general"},
                    {"url": "https://e.org/feed", "channel": "general"},
                ]
            }
        },
        environ={},
    )
    problems, warnings = run_checks(cfg)
    assert any("feeds.subscriptions.0.url: refused" in p for p in problems)
    assert any("feeds.subscriptions.2: the same feed is subscribed twice" in p for p in problems)
    assert not any(p.startswith("feeds.subscriptions.1") for p in problems)
    # Other modules may have their own findings; the built-in feeds must raise none.
    problems, warnings = run_checks(load(None, environ={}))
    assert not [m for m in problems + warnings if "feeds" in m]
