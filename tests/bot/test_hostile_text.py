"""Hostile text (issue 11): links that lie about where they lead, links to private networks,
invisible and control characters in feed text, and numeric IP forms at the fetcher's guard."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.markup import escape, link, to_plain, to_slack_mrkdwn
from feeds.fetch import Fetcher, FetchError, FetchSettings, check_url, literal_ip
from feeds.markdown import html_to_markup, plain_to_markup
from feeds.render import render_item
from storage.feeds import StoredItem
from tests.support.feeds import cycle, make
from tests.support.feedserver import Entry, FeedServer, rss
from tests.support.processes import run_cli

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = "refused: the address is on a private or local network"


def link_hazard(label: str, url: str) -> str | None:
    from bot.markup import link_hazard

    return link_hazard(label, url)


def safe_links(text: str) -> str:
    from bot.markup import safe_links

    return safe_links(text)


def clean_text(text: str) -> str:
    from feeds.normalise import clean_text

    return clean_text(text)


def is_masked_link(markup: str) -> bool:
    """Whether a surface would show a link under a label: Discord reads the neutral markup
    as is; Slack gets <url|label>."""
    return "](" in markup or "|" in to_slack_mrkdwn(markup)


# 1. A label that names another site, or a target with userinfo: "label (target)", no mask.


@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("https://www.gov.uk/guidance/send", "https://evil.example/phish"),
        ("www.gov.uk", "https://evil.example/"),
        ("gov.uk/guidance", "https://evil.example/guidance"),
        ("GOV.UK", "https://gov.uk.evil.example/"),
        ("Read it on www.gov.uk", "https://evil.example/"),
        ("http://www.gov.uk", "https://evil.example/"),
        ("g\u043ev.uk", "https://www.gov.uk/"),  # a Cyrillic o: not the site it imitates
        ("\uff47\uff4f\uff56\uff0e\uff55\uff4b", "https://evil.example/"),  # fullwidth gov.uk
        ("gov\u200b.uk", "https://evil.example/"),  # a zero-width space inside
        ("8.8.8.8", "https://evil.example/"),
    ],
)
def test_a_label_naming_another_site_is_shown_with_its_real_target(label: str, url: str) -> None:
    markup = link(label, url)
    assert not is_masked_link(markup), markup
    assert link_hazard(label, url) == "label"
    assert to_plain(markup).endswith(f" ({url})")
    assert to_plain(markup).startswith(label[:4])


@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("Read more", "https://gov.uk@evil.example/"),
        ("https://gov.uk", "https://gov.uk@evil.example/"),
        ("Guidance", "https://user:pass@www.gov.uk/guidance"),
        ("Guidance", "http://evil.example\\@www.gov.uk/"),  # a browser goes to evil.example
    ],
)
def test_a_target_with_userinfo_is_never_a_masked_link(label: str, url: str) -> None:
    markup = link(label, url)
    assert not is_masked_link(markup), markup
    assert link_hazard(label, url) == "userinfo"
    shown = to_plain(markup)
    assert shown.startswith(label) and "(" in shown
    # What is shown is where the link really leads, without the misleading user part.
    assert "gov.uk@" not in shown and "pass@" not in shown


def test_the_userinfo_target_is_shown_without_its_user_part() -> None:
    assert to_plain(link("Read more", "https://gov.uk@evil.example/x")) == "Read more (https://evil.example/x)"


@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("Read more", "https://evil.example/phish"),
        ("the guidance", "https://www.gov.uk/guidance"),
        ("GOV.UK: SEND and alternative provision improvement plan", "https://www.gov.uk/government/x"),
        ("www.gov.uk", "https://gov.uk/"),
        ("gov.uk/guidance", "https://www.gov.uk/guidance"),
        ("https://www.ipsea.org.uk/", "https://www.ipsea.org.uk/"),
        ("Café £5 \U0001f600", "https://example.org/"),
        ("Section 3.2, e.g. the 2.5% rule", "https://example.org/"),
    ],
)
def test_a_label_that_merely_names_something_keeps_its_link(label: str, url: str) -> None:
    assert link_hazard(label, url) is None
    markup = link(label, url)
    assert markup == f"[{escape(label)}]({url})"
    assert f"<{url}|" in to_slack_mrkdwn(markup)


def test_markup_links_are_checked_where_they_become_slack_and_plain_links() -> None:
    # Neutral markup written elsewhere (a stored summary, a cog) is checked when rendered.
    deceptive = "See [https://www.gov.uk/x](https://evil.example/phish) now"
    assert to_slack_mrkdwn(deceptive) == "See https://www.gov.uk/x (https://evil.example/phish) now"
    assert to_plain(deceptive) == "See https://www.gov.uk/x (https://evil.example/phish) now"
    assert to_slack_mrkdwn("[More](https://gov.uk@evil.example/)") == "More (https://evil.example/)"
    assert to_slack_mrkdwn("[More](https://www.gov.uk/x)") == "<https://www.gov.uk/x|More>"
    made_safe = safe_links(deceptive)
    assert "](" not in made_safe and to_plain(made_safe) == to_plain(deceptive)


def _content_links() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("label"), str) and isinstance(value.get("url"), str):
                found.append((value["label"], value["url"]))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in sorted((ROOT / "cogs" / "content").glob("*.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return found


def test_every_reviewed_content_source_stays_a_link() -> None:
    links = _content_links()
    assert len(links) > 20
    assert [(label, url) for label, url in links if link_hazard(label, url) is not None] == []


# 3. Links to private, loopback, link-local or unspecified hosts are not clickable.

NON_PUBLIC = [
    "http://127.0.0.1/admin",
    "http://2130706433/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://0x7f000001/",
    "http://127.0.0.1./",
    "http://%31%32%37.0.0.1/",  # a browser decodes the host first
    "http://localhost:8080/x",
    "http://printer.localhost/",
    "http://LOCALHOST/",
    "http://nas.local/",
    "http://db.internal/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "https://192.168.1.1/setup",
    "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::a00:1]/",
    "http://100.64.0.1/",
]


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_links_to_non_public_hosts_are_plain_text(url: str) -> None:
    markup = link("Router settings", url)
    assert not is_masked_link(markup), markup
    assert link_hazard("Router settings", url) == "private"
    shown = to_plain(markup)
    assert shown.startswith("Router settings (") and "http" not in shown.lower()
    assert "http" not in to_slack_mrkdwn(markup).lower()


@pytest.mark.parametrize("url", ["http://8.8.8.8/", "https://[2a04:4e42::144]/", "https://www.gov.uk/x"])
def test_links_to_public_hosts_stay_links(url: str) -> None:
    assert link_hazard("Read more", url) is None
    assert link("Read more", url) == f"[Read more]({url})"


def test_a_bare_private_address_in_feed_text_is_not_left_for_a_surface_to_autolink() -> None:
    out = html_to_markup("<p>Log in at http://192.168.1.1/admin or https://www.gov.uk/x</p>")
    assert "http://192.168.1.1" not in out and "192.168.1.1/admin" in out
    assert "https://www.gov.uk/x" in out
    assert "http://127.1" not in plain_to_markup("try http://127.1:8080/")
    # A bare address with a user part is shown as where it leads.
    assert html_to_markup("<p>Go to https://gov.uk@evil.example/x now</p>") == "Go to https://evil.example/x now"


# 1 and 3 in feed HTML.


def test_feed_html_deceptive_link_becomes_label_and_target() -> None:
    html = '<p>Read <a href="https://evil.example/phish">https://www.gov.uk/guidance/send</a> today.</p>'
    out = html_to_markup(html)
    assert not is_masked_link(out), out
    assert to_plain(out) == "Read https://www.gov.uk/guidance/send (https://evil.example/phish) today."


def test_feed_html_userinfo_and_private_links_are_not_clickable() -> None:
    out = html_to_markup(
        '<p><a href="https://gov.uk@evil.example/">Read more</a> and '
        '<a href="http://2130706433/">the router</a> and <a href="http://www.gov.uk/x">the guidance</a></p>'
    )
    assert to_plain(out) == (
        "Read more (https://evil.example/) and the router (2130706433/) and the guidance (http://www.gov.uk/x)"
    )
    assert out.count("](") == 1 and "[the guidance](http://www.gov.uk/x)" in out


def test_feed_html_honest_links_keep_their_labels() -> None:
    out = html_to_markup(
        '<p><a href="https://www.gov.uk/guidance">Read the guidance</a> on '
        '<a href="https://www.gov.uk/">GOV.UK</a>.</p>'
    )
    assert out == "[Read the guidance](https://www.gov.uk/guidance) on [GOV.UK](https://www.gov.uk/)."


def test_feed_text_in_code_or_pre_cannot_carry_markup_of_its_own() -> None:
    # markdownify leaves code and pre text unescaped; feed text there must stay literal.
    out = html_to_markup(
        "<p><code>[x](https://evil.example/)</code></p><pre>**loud** [[#C0MODS]]</pre><kbd>[k](https://e.example/)</kbd>"
    )
    assert "](" not in out and "**" not in out.replace("\\*", "") and "[[#" not in out.replace("\\[", "")
    assert to_plain(out) == "[x](https://evil.example/)\n\n**loud** [[#C0MODS]]\n\n[k](https://e.example/)"


def test_a_hostile_item_reaches_discord_and_slack_without_a_masked_link() -> None:
    from bot.adapters.discord.render import render_embed
    from bot.adapters.slack.blocks import render

    item = _stored(
        summary=html_to_markup(
            '<p><a href="https://evil.example/p">www.gov.uk/guidance</a> '
            '<a href="https://www.gov.uk/guidance">the guidance</a></p>'
        ),
        link="http://192.168.0.1/x",
    )
    reply = render_item(item, tz=ZoneInfo("Europe/London"), summary_chars=400)
    assert reply.card is not None
    embed = render_embed(reply.card)
    assert embed.url is None and embed.description is not None
    assert "[www.gov.uk/guidance](" not in embed.description
    assert "[the guidance](https://www.gov.uk/guidance)" in embed.description
    slack = str(render(reply))
    assert "|www.gov.uk/guidance>" not in slack and "evil.example/p|" not in slack
    assert "<https://www.gov.uk/guidance|the guidance>" in slack
    assert "http://192.168.0.1" not in slack


def test_reviewed_content_text_is_unchanged_by_the_link_checks() -> None:
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in sorted((ROOT / "cogs" / "content").glob("*.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    assert len(texts) > 100
    assert [t for t in texts if safe_links(t) != t] == []


# 2. Control, bidi and zero-width characters are stripped from feed text.

HOSTILE = (
    "\x00A\x01B\x07\x08C\x0b\x0c\x0d\x1b\x7fD\x80\x85\x9fE"  # C0, DEL, C1
    "\u202aF\u202eG\u2066H\u2069I"  # bidi embeddings, overrides and isolates
    "\u200bJ\u200cK\u200dL\u2060M\ufeffN"  # zero-width characters
)
KEPT = "Café £6,000 – naïve 😀 👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈 line\nnext\ttab"


def test_clean_text_strips_controls_and_keeps_ordinary_text() -> None:
    assert clean_text(HOSTILE) == "ABCDEFGHIJKLMN"
    assert clean_text(KEPT) == KEPT
    # Terminal escape sequences go whole, not just their escape character.
    assert clean_text("\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x9b2Jx") == "red link x"
    # An unterminated string is not swallowed with what follows, and costs linear time.
    assert clean_text("\x1b]0;" * 50000 + "ok") == "0;" * 50000 + "ok"


def test_feed_summaries_lose_control_characters_when_converted() -> None:
    html = "<p>a&#8203;b &#x202E;c\x00d \x1b[2Je &#xFEFF;f caf\u00e9 \u00a3</p>"
    assert html_to_markup(html) == "ab cd e f caf\u00e9 \u00a3"
    assert plain_to_markup("a\u200bb \u2066c\x7f") == "ab c"
    emoji = "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f3f3\ufe0f\u200d\U0001f308 na\u00efve \u00a3"
    assert html_to_markup(f"<p>{emoji}</p>") == emoji
    # A link whose href hides a control character is still checked (and cleaned).
    assert html_to_markup('<a href="https://evil.example/\x1b[31m">gov.uk</a>') == "gov.uk \\(https://evil.example/\\)"


def _stored(**kw: Any) -> StoredItem:
    base: dict[str, Any] = {
        "id": 1,
        "feed_id": 1,
        "title": "Title",
        "link": "https://www.specialneedsjungle.com/a/",
        "summary": "",
        "published": None,
        "updated_at": None,
        "feed_name": "SNJ",
    }
    base.update(kw)
    return StoredItem(**base)


def test_render_cleans_stored_text_and_checks_stored_links() -> None:
    # Items stored before these checks existed are made safe when they are rendered.
    item = _stored(
        title="\u202eSEND\x00 news\u200b \x1b[31m£6,000",
        summary="[https://www.gov.uk/x](https://evil.example/phish) \u2066ok\u2069",
        feed_name="S\u200bNJ\x07",
    )
    reply = render_item(item, tz=ZoneInfo("Europe/London"), summary_chars=400)
    card = reply.card
    assert card is not None
    assert card.title == "SEND news £6,000"
    assert card.body == "https://www.gov.uk/x \\(https://evil.example/phish\\) ok"
    assert card.footer == "SNJ"
    assert card.url == "https://www.specialneedsjungle.com/a/"


@pytest.mark.parametrize("link_url", ["http://10.0.0.5/story", "http://2130706433/story", "http://localhost/x"])
def test_render_does_not_make_a_private_item_link_clickable(link_url: str) -> None:
    card = render_item(_stored(link=link_url), tz=ZoneInfo("Europe/London"), summary_chars=400).card
    assert card is not None and card.url is None and card.footer is not None
    assert "http" not in card.footer and link_url.split("//", 1)[1] in to_plain(card.footer)


async def test_hostile_feed_text_is_posted_clean(tmp_path: Path, feed_server: FeedServer) -> None:
    entry = Entry(
        "\x1b[31mEHC\u202e plans\x00 \u2066news\u200b — caf\u00e9 😀",
        "https://www.specialneedsjungle.com/h/",
        guid="h1",
        summary=(
            '<p>Read <a href="https://evil.example/p">https://www.gov.uk/guidance</a>, '
            '<a href="http://169.254.169.254/latest">metadata</a> and '
            '<a href="https://www.gov.uk/guidance">the guidance</a>.\u200b</p>'
        ),
    )
    url = feed_server.set("/hostile", rss([entry]))
    h = await make(tmp_path, subscriptions=[{"url": url, "channel": "general", "latest": 1}])
    try:
        await cycle(h)
        [post] = h.messengers["console"].posts()
        card = post.reply.card if post.reply else None
        assert card is not None
        assert card.title == "EHC plans news — café 😀"
        assert card.body.count("](") == 1 and "[the guidance](https://www.gov.uk/guidance)" in card.body
        assert to_plain(card.body) == (
            "Read https://www.gov.uk/guidance (https://evil.example/p), metadata (169.254.169.254/latest) "
            "and the guidance (https://www.gov.uk/guidance)."
        )
    finally:
        await h.close()


# 4. The CLI prints no terminal escapes from a feed.


async def _run_cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    return await run_cli(*args, cwd=cwd, root=ROOT)


def _no_controls(text: str) -> None:
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, (bad, text)
    assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff")


async def test_cli_preview_and_poll_print_no_terminal_escapes(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = [
        Entry("\x1b]0;pwned\x07\x1b[2J\x1b[31mEHC\x1b[0m news\u202e", "https://e.org/1", guid="1"),
        Entry("Plain \x1b[31mstory\x07", "https://e.org/2", guid="2", summary="<p>\x1b[5mblink\u200b</p>"),
    ]
    url = feed_server.set("/ansi", rss(entries, title="\x1b[1mFeed\x1b[0m\x00"))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n'
        "[feeds]\nallow_private_addresses = true\n"
        f'[[feeds.subscriptions]]\nurl = "{url}"\nname = "Hostile"\nchannel = "general"\nlatest = 2\n'
    )
    code, out, err = await _run_cli("feeds", "preview", url, "--config", str(config), cwd=tmp_path)
    assert code == 0, err
    _no_controls(out + err)
    assert out.startswith("Feed (2 items") and "would post: EHC news (" in out and "Plain story (" in out

    code, out, err = await _run_cli("feeds", "poll", "--once", "--config", str(config), cwd=tmp_path)
    assert code == 0, err
    _no_controls(out)
    assert "[#general] EHC news\n" in out and "  blink\n" in out


def test_printing_messenger_strips_escapes_from_any_card() -> None:
    from bot.model import Card, ChannelRef, Reply
    from cogs.feeds.cli import PrintingMessenger

    async def go() -> None:
        reply = Reply(
            text="\x1b[2Jnotice",
            card=Card(title="\x1b[31mT", body="b\x1b]8;;x\x07ody", url="https://e.org/\x1b[1m", footer="f\x00"),
        )
        await PrintingMessenger().post(ChannelRef("console", "s", "general"), reply)

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        asyncio.run(go())
    _no_controls(buf.getvalue())
    assert "notice" in buf.getvalue() and "body" in buf.getvalue()


def test_markup_placeholders_cannot_smuggle_an_escape_character() -> None:
    # to_plain uses private-use characters for escaped ones while formatting; a feed that
    # contains them must not get control characters (or brackets) back out.
    assert to_plain("\ue01b[31mred \ue05bx\ue05d") == "[31mred x"


# 5. The fetcher's guard reads numeric IP forms as a resolver does.

NUMERIC_PRIVATE = [
    "http://2130706433/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://0x7F000001/",
    "http://0x7f.1/",
    "http://0177.1/",
    "http://017700000001/",
    "http://127.0.1/",
    "http://0xa.0x1.0x2.0x3/",
    "http://012.1.2.3/",
    "http://167772161/",
    "http://3232235777/",
    "http://0xc0.168.1/",
    "http://0xa9fea9fe/",
    "http://0/",
    "http://127.0.0.1./",
    "http://2130706433:8080/feed",
]


@pytest.mark.parametrize("url", NUMERIC_PRIVATE)
def test_check_url_refuses_numeric_private_forms(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(url, allow_private=False)
    assert caught.value.message == PRIVATE


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("10.0x10.1", "10.16.0.1"),
        ("134744072", "8.8.8.8"),
        ("[::1]", "::1"),
        ("192.168.0.1", "192.168.0.1"),
    ],
)
def test_literal_ip_reads_numeric_forms(host: str, ip: str) -> None:
    assert literal_ip(host) == ipaddress.ip_address(ip)
    if ":" not in host:  # the same reading as the C library's own parser
        assert literal_ip(host) == ipaddress.IPv4Address(socket.inet_aton(host))


@pytest.mark.parametrize(
    "host", ["deadbeef.cafe", "1.2.3.4.5", "08.1.1.1", "0x", "4294967296", "127.0.0.1 x", "a.0x7f"]
)
def test_literal_ip_leaves_names_alone(host: str) -> None:
    assert literal_ip(host) is None


def test_public_numeric_forms_pass_the_literal_check() -> None:
    check_url("http://134744072/", allow_private=False)  # 8.8.8.8
    check_url("http://8.8.8.8/", allow_private=False)


class RecordingResolver(AbstractResolver):
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0)]

    async def close(self) -> None:
        pass


async def test_fetcher_refuses_numeric_private_forms_before_connecting() -> None:
    resolver = RecordingResolver()
    settings = FetchSettings(user_agent="t", total_timeout=2, allow_private_addresses=False)
    fetcher = Fetcher(settings, resolver=resolver)
    try:
        for url in ["http://2130706433/", "http://127.1/", "http://0177.0.0.1/", "http://0x7f.0.0.1/"]:
            result = await fetcher.fetch(url)
            assert result.outcome == "error" and result.error == PRIVATE, (url, result.error)
    finally:
        await fetcher.close()
    assert resolver.asked == []


async def test_a_redirect_to_a_numeric_private_form_is_refused(feed_server: FeedServer) -> None:
    from feeds.fetch import address_allowed

    feed_server.set("/to-numeric", redirect_to="http://167772161/feed")  # 10.0.0.1
    settings = FetchSettings(user_agent="t", total_timeout=2, allow_private_addresses=False)
    # The fixture server is on 127.0.0.1: let that one through, as tests/feeds/test_guard.py does.
    fetcher = Fetcher(settings, allowed=lambda ip: str(ip) == "127.0.0.1" or address_allowed(ip))
    try:
        result = await fetcher.fetch(feed_server.url("/to-numeric"))
        assert result.outcome == "error" and result.error == PRIVATE, result.error
        assert len(feed_server.hits("/to-numeric")) == 1
    finally:
        await fetcher.close()


# -- report text and the console (issue 11: "stripped from feed and report text") --------------


def test_report_text_loses_hidden_characters_before_it_is_stored() -> None:
    from cogs.reports.redact import redact

    red = redact("the head\u202e said\u200b no\x1b[31m ehcp\x00 for 07700 900123")
    assert red.text == "the head said no ehcp for [phone number removed]"


async def test_the_console_prints_no_escape_sequences(tmp_path: Path) -> None:
    import io

    from bot.adapters.console import ConsoleAdapter
    from tests.support.harness import Harness

    h = await Harness.create(tmp_path)
    try:
        console = ConsoleAdapter(h.core)
        console.out = io.StringIO()
        # Whatever a reply quotes (a feed title, a report) goes through the same printer.
        console._print("SNJ\x1b]0;pwned\x07\x1b[2J story \u202eevil\u200b £6,000 👨\u200d👩\u200d👧")
        assert console.out.getvalue() == "SNJ story evil £6,000 👨\u200d👩\u200d👧\n"
    finally:
        await h.close()
