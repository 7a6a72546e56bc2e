"""Slack's inbound message encoding, undone so cogs see what the person typed.

Slack sends `&`, `<` and `>` as entities and wraps links and mentions in angle brackets:
`<https://x.org|x.org>`, `<@U123>`, `<#C123|general>`, `<!here>`. A cog given
`!feeds add <https://x.org/feed>` would otherwise see the brackets as part of the URL.
"""

from __future__ import annotations

import re

_ANGLE_RE = re.compile(r"<([^<>]*)>")


def _plain_token(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith(("http://", "https://")):
        return target
    if target.startswith("mailto:"):
        return label or target[len("mailto:") :]
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return f"@{label.lstrip('@') or target[len('!subteam^') :]}"
    if target.startswith("!"):
        return f"@{target[1:].split('^')[0]}"
    return label or target


def from_slack_text(text: str) -> str:
    """Slack message text -> plain text as typed (links as bare URLs, mentions as @name)."""
    text = _ANGLE_RE.sub(lambda m: _plain_token(m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
