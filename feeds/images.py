"""A feed item's picture: where feeds put one, and whether the bot may show it.

Feeds give a picture in several places; the first usable one wins, in this order:
Media RSS `media:content` (an image), `media:thumbnail`, an image enclosure, then the first
`<img>` in the item's content or summary. A picture is shown by the chat platform, which
fetches it itself, so only https addresses on a public host are kept: the same address
checks as a feed's own (feeds/urls.py, bot.markup.host_is_public), never a private, loopback
or link-local host, never a user name in the address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.markup import host_is_public
from feeds.model import FetchError
from feeds.urls import check_url

MAX_IMAGE_URL = 2000  # Discord allows 2048 for an embed image; Slack 3000
_IMG_RE = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp)(?:$|[?#])", re.I)


def safe_image_url(url: str | None, base_url: str = "") -> str | None:
    """`url` (resolved against the item's feed) when a chat platform may show it: https, a
    public host, no user part, not too long. Otherwise None."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if base_url:
        try:
            url = urljoin(base_url, url)
        except ValueError:
            return None
    if len(url) > MAX_IMAGE_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
        check_url(url, allow_private=False)
    except (ValueError, FetchError):
        return None
    if parts.scheme.lower() != "https" or "@" in parts.netloc or not parts.hostname:
        return None
    return url if host_is_public(parts.hostname) else None


def _is_image(entry: Mapping[str, Any], url: str) -> bool:
    kind = str(entry.get("type") or "").lower()
    medium = str(entry.get("medium") or "").lower()
    if kind:
        return kind.startswith("image/")
    if medium:
        return medium == "image"
    return bool(_IMAGE_EXT.search(url))


def _candidates(entry: Mapping[str, Any]) -> Iterable[str]:
    """Picture addresses in the order feeds mean them."""
    for media in entry.get("media_content") or ():
        url = str(media.get("url") or "")
        if url and _is_image(media, url):
            yield url
    for thumb in entry.get("media_thumbnail") or ():
        if url := str(thumb.get("url") or ""):
            yield url
    for enc in entry.get("enclosures") or ():
        url = str(enc.get("href") or enc.get("url") or "")
        if url and _is_image(enc, url):
            yield url
    texts = [str(c.get("value") or "") for c in entry.get("content") or ()]
    texts.append(str(entry.get("summary") or ""))
    for text in texts:
        if m := _IMG_RE.search(text):
            yield next(g for g in m.groups() if g is not None).replace("&amp;", "&")


def item_image(entry: Mapping[str, Any], base_url: str = "") -> str | None:
    """The first usable picture of a feedparser entry, or None."""
    for url in _candidates(entry):
        if found := safe_image_url(url, base_url):
            return found
    return None
