"""Synthetic feed servers for the benchmark, run in their own process.

Serving 70 MB per cycle from the benchmark's own event loop would blur what is measured,
so the servers live in a child process. Feed i is served by site i % sites; even sites
answer conditional requests (ETag, Last-Modified), odd ones always send the full body.
Feeds alternate WordPress-like RSS 2.0 and GOV.UK-like Atom, 50 items of about 1.4 KB.
Setting the shared generation to g (up to GENERATIONS - 1) makes the chosen 5% of feeds gain
g new items, one a generation (so the steady cycle can be measured several times). "date"
changes every feed's feed-level date (RSS lastBuildDate, Atom updated) and nothing else, as
WordPress and GOV.UK do when a feed is rebuilt. "delay <ms>" makes every answer wait that long
(the round trip of a real site).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import multiprocessing.connection
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

_PROSE = (
    "EHC plan annual review tribunal local authority school SENCO parent carer forum needs assessment"
    " provision section F health social care timescales appeal mediation consultation funding guidance"
    " council support children young people families inclusion reform white paper transport therapy"
)
WORDS = _PROSE.split()
BASE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ITEMS = 50
GENERATIONS = 4  # generation 0 and three steady cycles
# The feed-level dates in a body as rendered, and what the "date" message turns them into.
RSS_STAMP = b"<lastBuildDate>Fri, 20 Nov 2026 09:00:00 +0000</lastBuildDate>"
RSS_STAMP_NEW = b"<lastBuildDate>Sat, 21 Nov 2026 10:30:00 +0000</lastBuildDate>"
ATOM_STAMP = b"<updated>2026-11-20T09:00:00+00:00</updated><entry>"
ATOM_STAMP_NEW = b"<updated>2026-11-21T10:30:00+00:00</updated><entry>"


def _paragraphs(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 18))).capitalize() + "."
        link = f' <a href="https://example.org/{rng.randint(1, 99999)}">read more</a>' if rng.random() < 0.2 else ""
        para = f"<p>{sentence} <strong>{rng.choice(WORDS)}</strong>{link}</p>"
        out.append(para)
        size += len(para)
    return "".join(out)


def _item(feed: int, n: int, rng: random.Random) -> dict[str, Any]:
    return {
        "title": f"Feed {feed} story {n}: {' '.join(rng.choice(WORDS) for _ in range(6))}",
        "link": f"https://site{feed % 97}.example.org/{feed}/story-{n}/?utm_source=rss&utm_medium=rss",
        "guid": f"https://site{feed % 97}.example.org/?p={feed * 100000 + n}",
        "when": BASE + timedelta(hours=n),
        "html": _paragraphs(rng, 1000),
    }


def render(feed: int, newest: int) -> bytes:
    """Feed `feed` listing items newest..newest-49, newest first."""
    items = [_item(feed, n, random.Random(feed * 1_000_003 + n)) for n in range(newest, newest - ITEMS, -1)]
    if feed % 2 == 0:
        body = "".join(
            f"<item><title>{escape(it['title'])}</title><link>{escape(it['link'])}</link>"
            f'<guid isPermaLink="false">{escape(it["guid"])}</guid><pubDate>{format_datetime(it["when"])}</pubDate>'
            f"<description><![CDATA[{it['html']}]]></description></item>"
            for it in items
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Bench blog {feed}</title><link>https://site{feed % 97}.example.org/</link>"
            f"<description>Synthetic</description>{RSS_STAMP.decode()}{body}</channel></rss>"
        ).encode()
    body = "".join(
        f"<entry><id>tag:www.gov.uk,2005:/bench/{feed}/{escape(it['guid'])}</id>"
        f"<updated>{it['when']:%Y-%m-%dT%H:%M:%S+00:00}</updated>"
        f'<link rel="alternate" type="text/html" href="{escape(it["link"])}"/>'
        f'<title>{escape(it["title"])}</title><summary type="html">{escape(it["html"])}</summary></entry>'
        for it in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>https://www.gov.uk/bench/{feed}</id><title>Bench GOV.UK {feed}</title>"
        f"{ATOM_STAMP.decode().removesuffix('<entry>')}{body}</feed>"
    ).encode()


def bumped_feeds(feeds: int, share: float = 0.05) -> list[int]:
    return sorted(random.Random(42).sample(range(feeds), max(1, round(feeds * share))))


def serve(feeds: int, sites: int, conn: multiprocessing.connection.Connection) -> None:
    """Child process entry point: build bodies, bind ports, report them, serve until told."""
    from aiohttp import web

    generation = 0
    dated = False
    delay = 0.0
    bumped = set(bumped_feeds(feeds))
    bodies: dict[tuple[int, int], tuple[bytes, str]] = {}
    for f in range(feeds):
        for gen in range(GENERATIONS) if f in bumped else (0,):
            body = render(f, ITEMS + gen)
            bodies[(f, gen)] = (body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
    last_modified = format_datetime(BASE, usegmt=True)

    async def handle(request: web.Request) -> web.StreamResponse:
        site = request.app["site"]
        try:
            f = int(request.match_info["feed"])
        except ValueError:
            return web.Response(status=404)
        if f >= feeds or f % sites != site:
            return web.Response(status=404)
        gen = generation if f in bumped else 0
        body, etag = bodies[(f, gen)]
        if dated:
            body = body.replace(RSS_STAMP, RSS_STAMP_NEW, 1).replace(ATOM_STAMP, ATOM_STAMP_NEW, 1)
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if delay:
            await asyncio.sleep(delay)
        ctype = "application/rss+xml" if f % 2 == 0 else "application/atom+xml"
        if site % 2 == 0:
            headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=60"}
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
            return web.Response(body=body, content_type=ctype, headers=headers)
        return web.Response(body=body, content_type=ctype)

    async def main() -> None:
        nonlocal generation, dated, delay
        runners = []
        ports = []
        for s in range(sites):
            app = web.Application()
            app["site"] = s
            app.router.add_get("/f/{feed}", handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            await site.start()
            runners.append(runner)
            ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        conn.send(ports)
        loop = asyncio.get_running_loop()
        while True:
            msg = await loop.run_in_executor(None, conn.recv)
            if msg == "bump":
                generation = 1
                conn.send("bumped")
            elif msg == "date":
                dated = True
                conn.send("dated")
            elif isinstance(msg, str) and msg.startswith("set "):
                # "set <generation> <dated 0|1> <delay ms>": put the server back in a scenario's
                # state, so the baseline fetches exactly what the pipeline fetched.
                _, gen_s, dated_s, delay_s = msg.split()
                generation, dated, delay = int(gen_s), dated_s == "1", float(delay_s) / 1000
                conn.send("set")
            elif isinstance(msg, str) and msg.startswith("delay "):
                delay = float(msg.split()[1]) / 1000
                conn.send("delayed")
            elif msg == "stop":
                break
        for r in runners:
            await r.cleanup()

    asyncio.run(main())
