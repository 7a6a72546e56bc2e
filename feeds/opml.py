"""OPML 2.0: a forum's feed subscriptions as a file other feed readers (and bots) understand.

Export writes one `<outline type="rss">` per subscription, with the bot's own settings
(include, exclude, mode, digest time, quiet hours) as attributes in the sendbot namespace,
which other readers ignore. Import reads such a file, or any feed reader's export.

The file comes from outside, so it is read as hostile: at most `MAX_BYTES`, at most
`MAX_FEEDS` feeds, and lxml's parser with entities left unresolved, no DTD loaded and no
network; a file with a DOCTYPE at all (where "billion laughs" and external-entity attacks
live: OPML needs none) is refused before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

MAX_BYTES = 256 * 1024
MAX_FEEDS = 200
NS = "https://sendbot.invalid/opml"  # the namespace of the bot's own attributes
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ATTRS = ("include", "exclude", "mode", "digestAt", "digestEvery", "digestDay", "quietHours")


class OpmlError(ValueError):
    """The file can't be read as OPML; the message is shown to moderators."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str = ""
    # The bot's own settings (empty where the file has none): words as `!feeds add` takes them.
    extra: dict[str, str] = field(default_factory=dict)


def export_opml(feeds: list[OpmlFeed], title: str, now: datetime) -> bytes:
    from lxml import etree

    def x(text: str) -> str:  # what XML can hold (a feed's name is not ours to trust)
        return _NOT_XML.sub("", text)

    root = etree.Element("opml", version="2.0", nsmap={"sendbot": NS})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = x(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = etree.SubElement(root, "body")
    for f in feeds:
        outline = etree.SubElement(body, "outline", type="rss", text=x(f.title or f.url), xmlUrl=x(f.url))
        if f.title:
            outline.set("title", x(f.title))
        for key in _ATTRS:
            if value := f.extra.get(key):
                outline.set(f"{{{NS}}}{key}", x(value))
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds an OPML file lists (nested folders included), in order. Raises OpmlError."""
    from lxml import etree

    if len(data) > MAX_BYTES:
        raise OpmlError(f"the file is too big (the most is {MAX_BYTES // 1024} KB)")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise OpmlError("the file has a DOCTYPE or entities, which OPML never needs, so I didn't read it")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise OpmlError(f"it isn't well-formed XML ({str(e)[:80]})") from None
    if root.getroottree().docinfo.internalDTD is not None:  # a DOCTYPE the byte check missed
        raise OpmlError("the file has a DOCTYPE or entities, which OPML never needs, so I didn't read it")
    if root.tag != "opml" or root.find("body") is None:
        raise OpmlError("it isn't an OPML file (no <opml> with a <body>)")
    feeds: list[OpmlFeed] = []
    for outline in root.find("body").iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue  # a folder
        if len(feeds) >= MAX_FEEDS:
            raise OpmlError(f"it lists more than {MAX_FEEDS} feeds")
        title = (outline.get("title") or outline.get("text") or "").strip()[:200]
        extra = {k: v.strip()[:200] for k in _ATTRS if (v := outline.get(f"{{{NS}}}{k}"))}
        feeds.append(OpmlFeed(url[:2000], title, extra))
    return feeds
