"""The neutral markup cogs write, and its conversion for surfaces that don't speak it.

Cogs write a small Markdown subset: **bold**, *italic*, `code`, [label](url) and "- " list
lines. Discord renders it as is; the console shows plain text; Slack converts to mrkdwn.
Untrusted text (feed titles, report text) goes through `escape` first so it can't inject
links or formatting.
"""

from __future__ import annotations

import re

_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC_RE = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", re.S)
_MD_SPECIAL = re.compile(r"([\\`*_~|\[\]()>#])")


def escape(text: str) -> str:
    """Make untrusted text literal in the neutral markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def unescape(text: str) -> str:
    return re.sub(r"\\([\\`*_~|\[\]()>#])", r"\1", text)


def link(label: str, url: str) -> str:
    return f"[{escape(label)}]({url})"


def bold(text: str) -> str:
    return f"**{text}**"


def to_plain(text: str) -> str:
    """For the console and notification fallbacks: links become "label (url)"."""
    text = _LINK_RE.sub(lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", text)
    text = _BOLD_RE.sub(r"\1", text)
    text = _ITALIC_RE.sub(r"\1", text)
    text = text.replace("`", "")
    return unescape(text)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_slack_mrkdwn(text: str) -> str:
    """Slack mrkdwn, with &, < and > escaped everywhere outside the links we build, so that
    text such as <!everyone> or <@U123> from a feed or a report can never ping."""
    out: list[str] = []
    pos = 0
    for m in _LINK_RE.finditer(text):
        out.append(_slack_inline(text[pos : m.start()]))
        label = _slack_escape(unescape(m.group(1))).replace("|", "∣")
        out.append(f"<{m.group(2)}|{label}>")
        pos = m.end()
    out.append(_slack_inline(text[pos:]))
    return "".join(out)


def _slack_inline(text: str) -> str:
    text = _slack_escape(text)
    text = _BOLD_RE.sub(r"*\1*", text)
    return unescape(text)
