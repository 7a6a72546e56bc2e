"""The neutral markup cogs write, and its conversion for surfaces that don't speak it.

Cogs write a small Markdown subset: **bold**, *italic*, `code`, [label](url) and "- " list
lines. Discord renders it as is; the console shows plain text; Slack converts to mrkdwn.
Untrusted text (feed titles, report text) goes through `escape` first so it can't inject
links or formatting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC_RE = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", re.S)
_MD_SPECIAL = re.compile(r"([\\`*_~|\[\]()>#])")


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
    return f"[{escape(label)}]({url})"


def bold(text: str) -> str:
    return f"**{text}**"


_ESCAPED_RE = re.compile(r"\\([\\`*_~|\[\]()>#])")
_PUA = 0xE000  # private-use code points stand in for escaped characters while formatting


def _protect(text: str) -> str:
    """Hide escaped characters from the formatting patterns (restored by _restore)."""
    return _ESCAPED_RE.sub(lambda m: chr(_PUA + ord(m.group(1))), text)


def _restore(text: str) -> str:
    return re.sub("[\ue000-\ue07f]", lambda m: chr(ord(m.group(0)) - _PUA), text)


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
        label = _slack_escape(_restore(m.group(1))).replace("|", "∣")
        out.append(f"<{_slack_url(_restore(m.group(2)))}|{label}>")
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
