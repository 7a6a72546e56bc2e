"""The neutral markup cogs write, and its conversion for surfaces that don't speak it.

Cogs write a small Markdown subset: **bold**, *italic*, `code`, [label](url) and "- " list
lines. Discord renders it as is; the console shows plain text; Slack converts to mrkdwn.
Untrusted text (feed titles, report text) goes through `escape` first so it can't inject
links or formatting.

A link is shown under its label only when that can't mislead (`link_hazard`): a label that
names another site ("www.gov.uk" over a link elsewhere), a target with a user part
(https://gov.uk@evil.example/) or a target on a private or local network is written out as
plain "label (target)" instead, by `link`, `safe_links` (for markup from outside, such as
feed summaries) and the Slack and plain-text conversions. The address checks here
(`host_ip`, `address_is_public`) are also the feed fetcher's guard (feeds/fetch.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import unquote

from bot.netaddr import address_is_public, host_ip

_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC_RE = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", re.S)
_MD_SPECIAL = re.compile(r"([\\`*_~|\[\]()>#])")


# Terminal escape sequences, removed whole: CSI (ESC [ or 0x9B, parameters, final byte);
# OSC, DCS, SOS, PM and APC strings with their terminator (the string may not contain
# another opener, which also keeps the scan linear); other escapes (ESC, intermediates,
# final byte).
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9b-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
_EMOJI = "\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff"
_HIDDEN_CHARS = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 controls but tab and newline, DEL, C1 controls
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u180e\u200b\u200c\u2060-\u2064\ufeff]"  # zero-width and invisible characters
)
_HIDDEN = re.compile(
    _HIDDEN_CHARS + f"|(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])"  # a zero-width joiner, unless it joins emoji
)
# The two patterns above try their alternatives at every character (about 60 us a kilobyte);
# these one-class scans (about 3 us) decide whether they are needed at all. Feed conversion
# cleans every summary, so this is most of a cold poll cycle's cleaning time.
_HIDDEN_SIMPLE = re.compile(_HIDDEN_CHARS)
_ESCAPE_START = re.compile("[\x1b\x90-\x9f]")


def clean_text(text: str) -> str:
    """Untrusted text (feeds, reports, what a console prints) without terminal escape
    sequences, control characters (but newline and tab), bidi controls or zero-width
    characters, which could hide or reorder what a reader sees. Accents, symbols and emoji
    (joined ones too) are left alone."""
    if _ESCAPE_START.search(text):
        text = _ESCAPE_SEQUENCE.sub("", text)
    return _HIDDEN.sub("", text) if "\u200d" in text else _HIDDEN_SIMPLE.sub("", text)


def escape(text: str) -> str:
    """Make untrusted text literal in the neutral markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def unescape(text: str) -> str:
    return re.sub(r"\\([\\`*_~|\[\]()>#])", r"\1", text)


_CHANNEL_ID = r"[A-Za-z0-9_.-]{1,100}"
_CHANNEL_RE = re.compile(rf"(?<!\\)\[\[#({_CHANNEL_ID})\]\]")
_SLACK_CHANNEL_OPEN, _SLACK_CHANNEL_CLOSE = "\ue100", "\ue101"  # outside _protect's range


def channel(channel_id: str) -> str:
    """A reference to a channel, which each surface shows its own way and never as a ping:
    a channel link (<#id>) on Discord and Slack, #name on the console. Untrusted text can't
    forge one, because escape() turns the brackets into literals."""
    if re.fullmatch(_CHANNEL_ID, channel_id):
        return f"[[#{channel_id}]]"
    return "#" + escape(channel_id)


def render_channels(text: str, fmt: Callable[[str], str]) -> str:
    """Replace channel references with what `fmt(channel_id)` returns."""
    return _CHANNEL_RE.sub(lambda m: fmt(m.group(1)), text)


def link(label: str, url: str) -> str:
    """A link shown under `label`, or plain "label (target)" text when that could mislead
    (see `link_hazard`)."""
    hazard = link_hazard(label, url)
    if hazard is not None:
        return escape(_unlinked_text(label, url, hazard))
    return f"[{escape(label)}]({url})"


def bold(text: str) -> str:
    return f"**{text}**"


_ESCAPED_RE = re.compile(r"\\([\\`*_~|\[\]()>#])")
_PUA = 0xE000  # private-use code points stand in for escaped characters while formatting
_PUA_RE = re.compile("[\ue000-\ue07f]")


def _protect(text: str) -> str:
    """Hide escaped characters from the formatting patterns (restored by _restore). Any of
    the stand-in characters already in the text are dropped first: from a feed or a report
    they would otherwise come back as brackets or control characters."""
    return _ESCAPED_RE.sub(lambda m: chr(_PUA + ord(m.group(1))), _PUA_RE.sub("", text))


def _restore(text: str) -> str:
    return _PUA_RE.sub(lambda m: chr(ord(m.group(0)) - _PUA), text)


def _reescape(text: str) -> str:
    """Protected text back to markup (the inverse of _protect)."""
    return _PUA_RE.sub(lambda m: "\\" + chr(ord(m.group(0)) - _PUA), text)


def _plain_inline(text: str) -> str:
    text = _BOLD_RE.sub(r"\1", text)
    text = _ITALIC_RE.sub(r"\1", text)
    return _restore(text.replace("`", ""))


def to_plain(text: str) -> str:
    """For the console and notification fallbacks: links become "label (url)". The URL is
    restored and left alone: formatting patterns never run over it."""
    text = render_channels(_protect(text), lambda cid: "#" + cid)
    out: list[str] = []
    pos = 0
    for m in _LINK_RE.finditer(text):
        out.append(_plain_inline(text[pos : m.start()]))
        url = _restore(m.group(2))
        label = _plain_inline(m.group(1))
        hazard = link_hazard(label, url)
        if hazard is not None:
            out.append(_unlinked_text(label, url, hazard))
        else:
            out.append(url if label == url else f"{label} ({url})")
        pos = m.end()
    out.append(_plain_inline(text[pos:]))
    return "".join(out)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_slack_mrkdwn(text: str) -> str:
    """Slack mrkdwn, with &, < and > escaped everywhere outside the links we build, so that
    text such as <!everyone> or <@U123> from a feed or a report can never ping."""
    # Channel references become placeholders that escaping leaves alone, then <#id> links.
    # The placeholders are taken out of the text first: untrusted text must not forge a link.
    text = text.replace(_SLACK_CHANNEL_OPEN, "").replace(_SLACK_CHANNEL_CLOSE, "")
    text = render_channels(_protect(text), lambda cid: _SLACK_CHANNEL_OPEN + cid + _SLACK_CHANNEL_CLOSE)
    out: list[str] = []
    pos = 0
    for m in _LINK_RE.finditer(text):
        out.append(_slack_inline(text[pos : m.start()]))
        label, url = _restore(m.group(1)), _restore(m.group(2))
        hazard = link_hazard(label, url)
        if hazard is not None:
            out.append(_slack_escape(_unlinked_text(label, url, hazard)))
        else:
            out.append(f"<{_slack_url(url)}|{_slack_escape(label).replace('|', '∣')}>")
        pos = m.end()
    out.append(_slack_inline(text[pos:]))
    return "".join(out).replace(_SLACK_CHANNEL_OPEN, "<#").replace(_SLACK_CHANNEL_CLOSE, ">")


_SLACK_URL_UNSAFE = re.compile(r"[<>|\\\s]")


def _slack_url(url: str) -> str:
    """A URL inside Slack's <url|label>: characters that would end the link early or let the
    rest be read as markup (<, >, |) are percent-encoded, as are backslash and whitespace."""
    return _SLACK_URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), url)


def _slack_inline(text: str) -> str:
    # Format first (escaped characters are hidden), then escape &, < and > in everything,
    # including characters the author escaped.
    text = _BOLD_RE.sub(r"*\1*", text)
    return _slack_escape(_restore(text))


# Links from untrusted text: where they lead, and whether their label says so.

# Names that only ever mean this machine or a local network (never looked up here).
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")


def host_is_public(host: str) -> bool:
    """Whether a link's host may be on the public internet: not a non-public IP literal in
    any numeric form, not localhost or another name reserved for local use."""
    return _public_host(_normal_host(host))


def _public_host(host: str) -> bool:
    if not host:
        return False
    ip = host_ip(host)
    if ip is not None:
        return address_is_public(ip)
    return not ("." + host).endswith(_LOCAL_SUFFIXES)


def _drop_invisible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _normal_host(host: str) -> str:
    """A host as a browser reaches it: percent-decoded, compatibility-mapped (fullwidth
    letters and dots), lower case, without a trailing dot, international names in ASCII."""
    h = unicodedata.normalize("NFKC", _drop_invisible(unquote(host, errors="replace"))).casefold()
    h = h.replace("\u3002", ".").removesuffix(".")
    try:
        return h.encode("idna").decode("ascii")
    except UnicodeError:
        return h


# Up to the host's end as a browser reads an http(s) URL: backslashes count as slashes.
_AUTHORITY_RE = re.compile(r"([a-z][a-z0-9+.-]*:)[\\/]*([^\\/?#]*)", re.I)
_WEB_URL_RE = re.compile(r"https?:", re.I)


def _authority(url: str) -> tuple[str, bool] | None:
    """(host, whether a user part comes before it) of an absolute URL, else None. A user
    part is seen as a browser and as RFC 3986 would see it (http://a\\@b/ differs)."""
    m = _AUTHORITY_RE.match(url)
    if m is None:
        return None
    userinfo = "@" in m.group(2) or "@" in re.split(r"[/?#]", url[m.end(1) :].lstrip("/"), maxsplit=1)[0]
    hostport = m.group(2).rpartition("@")[2]
    host = hostport[1:].partition("]")[0] if hostport.startswith("[") else hostport.partition(":")[0]
    return _normal_host(host), userinfo


_TOKEN_EDGES = "()[]{}<>\"'“”‘’«»,.;:!?…*_~`|"
_SCHEME_TOKEN = re.compile(r"[a-z][a-z0-9+.-]*:[\\/]{2}", re.I)
_DOMAIN_TOKEN = re.compile(
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}(?::\d{1,5})?(?:[/?#\\].*)?|"
    r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?:[/?#\\].*)?",
    re.S,
)


def _named_hosts(label: str) -> list[str]:
    """The hosts a label shows, in words that look like a web address or a domain."""
    text = unicodedata.normalize("NFKC", _drop_invisible(label)).replace("\u3002", ".")
    hosts = []
    for word in text.split():
        word = word.strip(_TOKEN_EDGES)
        if _SCHEME_TOKEN.match(word):
            parsed = _authority(word)
            hosts.append(parsed[0] if parsed else "")
        elif _DOMAIN_TOKEN.fullmatch(word.rpartition("@")[2]):
            parsed = _authority("http://" + word)
            hosts.append(parsed[0] if parsed else "")
    return hosts


def _site(host: str) -> str:
    return host.removeprefix("www.")


def link_hazard(label: str, url: str) -> str | None:
    """Why a link from untrusted text must not be shown under its label, or None when it
    may: "private" (the target's host is not public: an IP literal in any form on a local
    network, localhost, a local-only name), "userinfo" (the target has a user part, as in
    https://gov.uk@evil.example/, which leads to evil.example) or "label" (the label shows a
    web address or domain other than the target's host, "www" aside). A label that merely
    names something ("Read more", "the guidance") is fine."""
    if not _WEB_URL_RE.match(url):
        return None
    parsed = _authority(url)
    if parsed is None or not _public_host(parsed[0]):
        return "private"
    host, userinfo = parsed
    if userinfo:
        return "userinfo"
    if any(_site(named) != _site(host) for named in _named_hosts(label)):
        return "label"
    return None


def _shown_target(url: str, hazard: str) -> str:
    """The target as text: without a user part; for a non-public host also without the
    scheme, so that no surface turns it into a link of its own."""
    m = _AUTHORITY_RE.match(url)
    if m is None:
        return url
    hostport = m.group(2).rpartition("@")[2]
    rest = url[m.end(2) :]
    if hazard == "private":
        return hostport + rest
    return f"{m.group(1)}//{hostport}{rest}"


_BARE_URL_RE = re.compile(r"https?:[\\/]*[^\s<>]+", re.I)


def _unlink_bare(text: str) -> str:
    """Bare web addresses, which Discord and Slack make links of: a non-public host's lose
    their scheme (so they stay text), and a user part is dropped (https://gov.uk@evil.example/
    is shown as the https://evil.example/ it leads to)."""

    def fix(m: re.Match[str]) -> str:
        parsed = _authority(m.group(0))
        if parsed is None or not _public_host(parsed[0]):
            return _shown_target(m.group(0), "private")
        return _shown_target(m.group(0), "userinfo") if parsed[1] else m.group(0)

    return _BARE_URL_RE.sub(fix, text)


def _unlinked_text(label: str, url: str, hazard: str) -> str:
    """A link that must not be shown under its label, as plain "label (target)"."""
    shown = _shown_target(url, hazard)
    label = _unlink_bare(label).strip()
    if label in (url, shown, _unlink_bare(url)):
        return shown
    return f"{label} ({shown})"


def safe_links(text: str) -> str:
    """Neutral markup from outside (feed summaries, stored or new) with every link checked:
    links `link_hazard` objects to become plain "label (target)", and bare addresses of
    non-public hosts lose their scheme so no surface makes them clickable."""
    protected = _protect(text)
    out: list[str] = []
    pos = 0
    for m in _LINK_RE.finditer(protected):
        out.append(_unlink_bare(_reescape(protected[pos : m.start()])))
        label, url = _restore(m.group(1)), _restore(m.group(2))
        hazard = link_hazard(label, url)
        out.append(_reescape(m.group(0)) if hazard is None else escape(_unlinked_text(label, url, hazard)))
        pos = m.end()
    out.append(_unlink_bare(_reescape(protected[pos:])))
    return "".join(out)
