"""Stable keys for feed items, so a story is recognised however a feed re-publishes it
(and `clean_text`, from bot.markup, for the feed code that imports it from here).

Feeds bump dates, reorder items and sprinkle tracking parameters on links; some even mint
a new GUID on every fetch. The item key is the GUID when there is one, else the cleaned
link, else a hash of title and date. The story key (used to post a story once per channel
whichever feed carried it) prefers the cleaned link, because two feeds rarely share GUIDs.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.markup import clean_text as clean_text  # re-exported: feeds code imports it from here

# Query parameters that identify a campaign or a click, never the page itself.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "_hs")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "ref_src",
        "__s",
        "s_cid",
    }
)

_MAX_KEY_TEXT = 2000


def is_tracking_param(name: str) -> bool:
    lower = name.lower()
    return lower in _TRACKING_NAMES or lower.startswith(_TRACKING_PREFIXES)


def clean_link(url: str | None) -> str | None:
    """The link without fragment or tracking parameters; scheme and host lower-cased.

    None for anything that is not an absolute http(s) link: such a link is useless to a
    reader and must not become a key either.
    """
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def item_key(guid: str | None, link: str | None, title: str, published: str | None) -> str:
    """A per-feed key that survives date bumps and reordering."""
    guid = (guid or "").strip()
    if guid:
        return "guid:" + guid[:_MAX_KEY_TEXT]
    cleaned = clean_link(link)
    if cleaned:
        return "link:" + cleaned[:_MAX_KEY_TEXT]
    return "hash:" + _digest(title.strip(), published or "")[:32]


def story_key(link: str | None, title: str, published: str | None) -> str:
    """A key shared by the same story in different feeds (and by a feed whose GUIDs churn)."""
    cleaned = clean_link(link)
    if cleaned:
        return "link:" + cleaned[:_MAX_KEY_TEXT]
    return "hash:" + _digest(title.strip(), published or "")[:32]


def content_hash(title: str, summary: str) -> str:
    """What counts as a change: title or summary text, never the date."""
    return _digest(title, summary)[:32]
