"""Feed HTML to the bot's neutral markup, with a length budget that never cuts a link.

lxml (libxml2's HTML parser, in C) builds the tree; a small walker keeps only what a chat
post needs and can carry safely: paragraphs, line breaks, list items and http(s) links. Every
other tag gives its text and nothing else. This replaced markdownify + BeautifulSoup, which
cost 1.4 ms an item and were three quarters of a cold poll cycle (issue 13); the rules are the
ones that subclass had, and the same tests hold them.

All text goes through clean_text (no control, bidi or zero-width characters) and
bot.markup.escape, so feed text can't smuggle formatting or links of its own, not even inside
<code> or <pre>. Links then pass bot.markup.safe_links: one whose label shows another site than
its target, whose target has a user part, or which leads to a private or local address is
written out as plain "label (target)". Scripts, styles, images and the document head are
dropped (feedparser's own sanitiser is switched off because this converter decides what
survives).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.markup import escape, safe_links
from feeds.normalise import clean_text

_LINK_RE = re.compile(r"\[(?:[^\]\n\\]|\\.)+\]\(https?://[^)\s]+\)")
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_HREF_RE = re.compile(r"^https?://[^\s]+$", re.I)
# Characters libxml2 refuses in a str (it raises instead of parsing): NUL and the other C0
# controls but tab and newlines, lone surrogates, and the two non-characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.I)
# libxml2 stops nesting at 256 levels; past this depth the text is kept, the structure is not,
# so no hostile page can exhaust the walker's stack.
_MAX_DEPTH = 200

_DROPPED = frozenset({"script", "style", "img", "head", "title", "template", "noscript", "svg", "math"})
_BLOCKS = frozenset(
    {"p", "div", "article", "section", "header", "footer", "aside", "main", "nav", "figure", "figcaption"}
    | {"dl", "dt", "dd", "caption", "address", "details", "summary", "center"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _Walk:
    """One conversion. `inline` is true inside headings and table cells (blocks become
    spaces there); `pre` keeps the text's own line breaks."""

    def text(self, value: str | None, pre: bool) -> str:
        if not value:
            return ""
        if not pre:
            # Runs of spaces are folded once, line by line, at the end; a line break in running
            # text is only a space.
            value = value.replace("\n", " ").replace("\r", " ")
        return escape(value)

    def children(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        parts = [self.text(el.text, pre)]
        for child in el:
            parts.append(self.element(child, inline, pre, depth + 1))
            parts.append(self.text(child.tail, pre))
        return "".join(parts)

    def element(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        tag = el.tag
        if not isinstance(tag, str):
            return ""  # a comment or a processing instruction
        tag = tag.lower()
        if tag in _DROPPED:
            return ""
        if depth > _MAX_DEPTH:
            return self.text(" ".join(el.itertext()), pre)
        handler = _HANDLERS.get(tag)
        if handler is not None:
            return handler(self, el, inline, pre, depth)
        return self.children(el, inline, pre, depth)

    def block(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        text = self.children(el, inline, pre, depth).strip()
        if inline:
            return f" {text} "
        return f"\n\n{text}\n\n" if text else ""

    def heading(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        text = self.children(el, True, pre, depth).strip()
        return f"\n\n{text}\n\n" if text else ""

    def br(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return " " if inline else "\n"

    def hr(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return "\n\n"

    def link(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        text = self.children(el, inline, pre, depth)
        href = clean_text(el.get("href") or "").strip()
        label = " ".join(text.split())
        if not label:
            return ""
        if not _HREF_RE.match(href):
            return label
        href = href.replace("(", "%28").replace(")", "%29")
        # A bracket in the label would end the link early; the escaped form is kept literal.
        label = label.replace("\\[", "(").replace("\\]", ")")
        return f"[{label}]({href})"

    def listing(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        text = self.children(el, inline, pre, depth)
        parent = el.getparent()
        if parent is not None and isinstance(parent.tag, str) and parent.tag.lower() == "li":
            return "\n" + text.rstrip()
        return "\n\n" + text + "\n"

    def item(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        text = self.children(el, inline, pre, depth).strip()
        if not text:
            return "\n"
        parent = el.getparent()
        if parent is not None and isinstance(parent.tag, str) and parent.tag.lower() == "ol":
            start = str(parent.get("start") or "")
            before = sum(1 for sib in el.itersiblings(preceding=True) if sib.tag == "li")
            bullet = f"{(int(start) if start.isdecimal() and len(start) < 7 else 1) + before}."
        else:
            bullet = "-"
        return f"{bullet} {text}\n"

    def preformatted(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return f"\n\n{self.children(el, inline, True, depth)}\n\n"

    def quote(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return f"\n\n{self.children(el, inline, pre, depth).strip()}\n\n"

    def table(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return f"\n\n{self.children(el, inline, pre, depth)}\n\n"

    def row(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return f"{self.children(el, inline, pre, depth).strip()}\n"

    def cell(self, el: Any, inline: bool, pre: bool, depth: int) -> str:
        return f" {self.children(el, True, pre, depth).strip()} "


_Handler = Callable[[_Walk, Any, bool, bool, int], str]
_HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(_BLOCKS, _Walk.block),
    **dict.fromkeys(_HEADINGS, _Walk.heading),
    "br": _Walk.br,
    "hr": _Walk.hr,
    "a": _Walk.link,
    "ul": _Walk.listing,
    "ol": _Walk.listing,
    "li": _Walk.item,
    "pre": _Walk.preformatted,
    "blockquote": _Walk.quote,
    "table": _Walk.table,
    "tr": _Walk.row,
    "td": _Walk.cell,
    "th": _Walk.cell,
}


def _tree(html: str) -> Any:
    # Imported here: posting and `cut` need this module, only conversion needs lxml.
    import lxml.etree
    import lxml.html

    html = _XML_DECLARATION.sub("", _NOT_XML.sub("", clean_text(html.replace("\r\n", "\n").replace("\r", "\n"))))
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None  # libxml2 found nothing it could call a document


def html_to_markup(html: str) -> str:
    """HTML (or plain text with stray tags) to tidy neutral markup."""
    if not html:
        return ""
    root = _tree(html)
    if root is None:
        return ""
    body = root.find("body")
    text = _Walk().children(body if body is not None else root, False, False, 0)
    # Hidden characters are removed from the source and again here, once for the whole text:
    # character references (&#8238;) are only decoded by the parser.
    lines = [_SPACES.sub(" ", line).strip() for line in clean_text(text).splitlines()]
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
