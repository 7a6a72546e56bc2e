"""Fixture feeds (WordPress-like RSS 2.0, GOV.UK-like Atom) and a loopback HTTP server.

The server binds 127.0.0.1 port 0 inside the test's event loop. Each path maps to a Route
that a test can change between polls (new items, a 500, a redirect...). Requests are
recorded with their headers so tests can check conditional GET.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web


@dataclass
class Entry:
    title: str
    link: str | None
    guid: str | None = None
    summary: str = "<p>Some text.</p>"
    published: datetime | None = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def rss(entries: list[Entry], title: str = "Special Needs Jungle", raw_titles: bool = False) -> bytes:
    """RSS 2.0 shaped like WordPress output (guid isPermaLink=false, content in CDATA)."""
    items = []
    for e in entries:
        parts = [f"<title>{e.title if raw_titles else xml_escape(e.title)}</title>"]
        if e.link:
            parts.append(f"<link>{xml_escape(e.link)}</link>")
        if e.guid:
            parts.append(f'<guid isPermaLink="false">{xml_escape(e.guid)}</guid>')
        if e.published:
            parts.append(f"<pubDate>{format_datetime(e.published)}</pubDate>")
        parts.append(f"<description><![CDATA[{e.summary}]]></description>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{xml_escape(title)}</title><link>https://www.specialneedsjungle.com</link>"
        f"<description>SEND news</description>{''.join(items)}</channel></rss>"
    ).encode()


def atom(entries: list[Entry], title: str = "Department for Education - Activity on GOV.UK") -> bytes:
    """Atom shaped like GOV.UK organisation feeds (id tag URIs, summary as text)."""
    out = []
    for e in entries:
        when = (e.published or datetime(2026, 11, 1, tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        link = f'<link rel="alternate" type="text/html" href="{xml_escape(e.link)}"/>' if e.link else ""
        guid = e.guid or f"tag:www.gov.uk,2005:/{hashlib.sha1(e.title.encode()).hexdigest()[:10]}"
        out.append(
            f"<entry><id>{xml_escape(guid)}</id><updated>{when}</updated>{link}"
            f'<title>{xml_escape(e.title)}</title><summary type="html">{xml_escape(e.summary)}</summary></entry>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<id>https://www.gov.uk/government/organisations/department-for-education</id><title>{xml_escape(title)}</title>"
        f"<updated>2026-11-20T09:00:00+00:00</updated>{''.join(out)}</feed>"
    ).encode()


def snj_entries(n: int = 3, start: int = 1) -> list[Entry]:
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    return [
        Entry(
            title=f"SNJ story {i}",
            link=f"https://www.specialneedsjungle.com/story-{i}/?utm_source=rss&utm_medium=rss",
            guid=f"https://www.specialneedsjungle.com/?p={1000 + i}",
            summary=f"<p>Story {i} about <b>EHC plans</b>. <a href='https://example.org/{i}'>More</a></p>",
            published=base + timedelta(days=i),
        )
        for i in range(start, start + n)
    ]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    redirect_to: str | None = None
    slow: bool = False  # send a little, then trickle forever
    gate: asyncio.Event | None = None  # answer only once this is set (a slow site, on cue)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at the first request


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, body: bytes = b"", **kw: Any) -> str:
        self.routes[path] = Route(body=body, **kw)
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Seen(request.path, dict(request.headers)))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        route.arrived.set()
        if route.gate is not None:
            await route.gate.wait()
        if route.redirect_to is not None:
            return web.Response(status=302, headers={"Location": route.redirect_to})
        headers = dict(route.headers)
        if route.status != 200:
            return web.Response(status=route.status, text="error", headers=headers)
        if route.slow:
            resp = web.StreamResponse(headers={"Content-Type": route.content_type})
            await resp.prepare(request)
            await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            while True:  # an endless trickle: only the client's timeout ends it
                await resp.write(b" ")
                await asyncio.sleep(0.05)
        if route.etag:
            tag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=304, headers=headers)
        return web.Response(body=route.body, headers={**headers, "Content-Type": route.content_type})
