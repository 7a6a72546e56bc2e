"""Feed HTML to the bot's neutral markup, with a length budget that never cuts a link.

markdownify does the HTML walking; this subclass keeps only what a chat post needs and
can carry safely: paragraphs, line breaks, list items and http(s) links. All text goes
through feeds.normalise.clean_text (no control, bidi or zero-width characters) and
bot.markup.escape, so feed text can't smuggle formatting or links of its own, not even
inside <code> or <pre>. Links then pass bot.markup.safe_links: one whose label shows another
site than its target, whose target has a user part, or which leads to a private or local
address is written out as plain "label (target)". Scripts, styles and images are dropped
(feedparser's own sanitiser is switched off because this converter decides what survives).
"""

from __future__ import annotations

import re
from typing import Any

from markdownify import MarkdownConverter

from bot.markup import escape, safe_links
from feeds.normalise import clean_text

_LINK_RE = re.compile(r"\[(?:[^\]\n\\]|\\.)+\]\(https?://[^)\s]+\)")
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\r\f\v]+")


class _ChatConverter(MarkdownConverter):
    def escape(self, text: str, parent_tags: Any = None) -> str:
        return escape(clean_text(text)) if text else ""

    def process_text(self, el: Any, parent_tags: Any = None) -> str:
        # markdownify leaves text inside pre, code, kbd and samp unescaped (for a code span);
        # here that text is shown like any other, so it is escaped like any other.
        # markdownify has process_text (0.13+) but no type information for it.
        return str(super().process_text(el, parent_tags=set(parent_tags or ()) - {"_noformat"}))  # type: ignore[misc]

    def convert_a(self, el: Any, text: str, parent_tags: Any = None) -> str:
        href = clean_text(el.get("href") or "").strip()
        label = " ".join(text.split())
        if not label:
            return ""
        if not re.match(r"^https?://[^\s]+$", href, re.I):
            return label
        href = href.replace("(", "%28").replace(")", "%29")
        # A bracket in the label would end the link early; the escaped form is kept literal.
        label = label.replace("\\[", "(").replace("\\]", ")")
        return f"[{label}]({href})"

    def _plain(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return text

    convert_b = convert_strong = convert_em = convert_i = convert_u = _plain
    convert_code = convert_kbd = convert_samp = convert_del = convert_s = _plain
    convert_sub = convert_sup = convert_q = _plain

    def convert_hN(self, n: int, el: Any, text: str, parent_tags: Any = None) -> str:
        return f"\n\n{text.strip()}\n\n" if text.strip() else ""

    def convert_img(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return ""

    def convert_script(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return ""

    def convert_style(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return ""

    def convert_pre(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return f"\n\n{text}\n\n"

    def convert_blockquote(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return f"\n\n{text.strip()}\n\n"

    def convert_hr(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return "\n\n"

    def convert_table(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return f"\n\n{text}\n\n"

    def convert_tr(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return f"{text.strip()}\n"

    def convert_td(self, el: Any, text: str, parent_tags: Any = None) -> str:
        return f" {text.strip()} "

    convert_th = convert_td


_CONVERTER = _ChatConverter(bullets="-", heading_style="atx", strip_document="strip")


def html_to_markup(html: str) -> str:
    """HTML (or plain text with stray tags) to tidy neutral markup."""
    if not html:
        return ""
    text = _CONVERTER.convert(html)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return safe_links(_BLANKS.sub("\n\n", "\n".join(lines)).strip())


def plain_to_markup(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in clean_text(text).splitlines()]
    return safe_links(_BLANKS.sub("\n\n", escape("\n".join(lines))).strip())


def cut(text: str, budget: int) -> str:
    """At most `budget` characters, cut at a word boundary outside any link, with "…"."""
    if len(text) <= budget:
        return text
    limit = max(1, budget - 1)
    spans = [(m.start(), m.end()) for m in _LINK_RE.finditer(text, 0, limit + 200)]
    cut_at = -1
    for i in range(limit, 0, -1):
        if text[i].isspace() and not any(s < i < e for s, e in spans):
            cut_at = i
            break
    if cut_at <= 0:
        # One enormous word: cut it, but never inside a link (drop the link instead).
        cut_at = limit
        for s, e in spans:
            if s < cut_at < e:
                cut_at = s
    head = text[:cut_at].rstrip()
    # Don't leave a dangling escape backslash at the end.
    if head.endswith("\\") and not head.endswith("\\\\"):
        head = head[:-1]
    return head + "…"
