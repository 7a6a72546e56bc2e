"""Feed bodies for the item cache tests (feeds/chunks.py): WordPress-like RSS with non-ASCII
text, GOV.UK-like Atom with xml:base, RSS 1.0, prefixed and odd shapes, each built from
numbered items so a test can add, drop or reorder them."""

from __future__ import annotations

URL = "https://www.specialneedsjungle.com/feed/"

RSS_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    b' xmlns:media="http://search.yahoo.com/mrss/"><channel><title>SNJ &amp; friends</title>'
    b"<lastBuildDate>Fri, 20 Nov 2026 09:00:00 +0000</lastBuildDate>\n"
)
RSS_TAIL = b"\n</channel></rss>"


def item(n: int, extra: bytes = b"") -> bytes:
    """A WordPress-like item with non-ASCII text (UTF-8), CDATA, entities and a picture."""
    return (
        b"<item><title>Caf\xc3\xa9 &amp; story %d</title><link>https://e.org/%d</link>"
        b'<guid isPermaLink="false">https://e.org/?p=%d</guid><pubDate>Fri, 20 Nov 2026 09:00:00 +0000</pubDate>'
        b"<description><![CDATA[<p>Story %d &amp; <b>EHC</b></p>]]></description>"
        b'<content:encoded><![CDATA[<p>Long %d <img src="https://cdn.e.org/%d.jpg"/></p>]]></content:encoded>%s</item>'
    ) % (n, n, n, n, n, n, extra)


def feed(*numbers: int, head: bytes = RSS_HEAD, tail: bytes = RSS_TAIL, sep: bytes = b"\n") -> bytes:
    return head + sep.join(item(n) for n in numbers) + tail


def latin(n: int) -> bytes:
    return b"<item><title>Caf\xe9 \x93%d\x94</title><link>https://e.org/l%d</link></item>" % (n, n)


def latin_feed(encoding: bytes, *numbers: int) -> bytes:
    head = b'<?xml version="1.0" encoding="%s"?><rss version="2.0"><channel><title>L\xe9</title>' % encoding
    return head + b"".join(latin(n) for n in numbers) + b"</channel></rss>"


ATOM_HEAD = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://www.gov.uk/x/">'
    b"<id>tag:gov</id><title>GOV</title><updated>2026-11-20T09:00:00+00:00</updated>"
)


def entry(n: int, base: bytes = b"") -> bytes:
    attr = b' xml:base="%s"' % base if base else b""
    return (
        b"<entry%s><id>tag:www.gov.uk,2005:/%d</id><updated>2026-11-0%dT00:00:00+00:00</updated>"
        b'<link rel="alternate" type="text/html" href="p/%d"/><title>Gov &amp; %d</title>'
        b'<summary type="html">&lt;p&gt;Hi %d&lt;/p&gt;</summary>'
        b'<link rel="enclosure" type="image/jpeg" href="https://assets.gov.uk/%d.jpg"/></entry>'
    ) % (attr, n, n % 9 + 1, n, n, n, n)


def atom_feed(*numbers: int, head: bytes = ATOM_HEAD, base: bytes = b"") -> bytes:
    return head + b"".join(entry(n, base) for n in numbers) + b"</feed>"


RDF_HEAD = (
    b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://r.org/"><title>R</title>'
    b'<items><rdf:Seq><rdf:li resource="https://r.org/1"/></rdf:Seq></items></channel>'
)


def rdf(*numbers: int, head: bytes = RDF_HEAD) -> bytes:
    items = b"".join(
        b'<item rdf:about="https://r.org/%d"><title>R%d</title><link>https://r.org/%d</link></item>' % (n, n, n)
        for n in numbers
    )
    return head + items + b"</rdf:RDF>"


def prefixed(*numbers: int) -> bytes:
    entries = b"".join(
        b'<a:entry><a:id>tag:%d</a:id><a:title>E%d</a:title><a:link href="https://e.org/%d"/></a:entry>' % (n, n, n)
        for n in numbers
    )
    return (
        b'<?xml version="1.0"?><a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>P</a:title>'
        + entries
        + b"</a:feed>"
    )


def eacute(body: bytes) -> bytes:
    return body.replace(b"a:", "é:".encode()).replace(b"xmlns:a", "xmlns:é".encode())


def wp(body: bytes) -> bytes:
    """WordPress block comments in the content's CDATA (the common case must still be cut)."""
    return body.replace(b"<p>Long", b"<!-- wp:paragraph --><p>Long").replace(
        b"</p>]]>", b"</p><!-- /wp:paragraph -->]]>"
    )


def ns_feed(prefix: bytes, *numbers: int) -> bytes:
    """Items that declare a namespace (`prefix` b"" for a default one, b":x" for x)."""
    return feed(*numbers).replace(b"<item>", b'<item xmlns%s="urn:x">' % prefix)


LEAK_A = b'<item xmlns:media="urn:fake"><title>A</title><link>https://e.org/a</link></item>'
LEAK_B = (
    b'<item xmlns:z="urn:fake"><title>B</title><link>https://e.org/b</link>'
    b'<z:content url="https://cdn.e.org/b.jpg" medium="image"/></item>'
)


def leak(*items: bytes) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
    return head + b"".join(items) + b"</channel></rss>"


def rss_inside(*numbers: int) -> bytes:
    """Atom entries with plain-text summaries that look like HTML; the first holds `<rss/>`."""
    entries = [
        b'<entry><id>tag:%d</id><title>E%d</title><link href="https://e.org/%d"/>'
        b'<summary type="text">a &lt;b&gt;bold&lt;/b&gt; %d</summary></entry>' % (n, n, n, n)
        for n in numbers
    ]
    entries[0] = entries[0].replace(b"</entry>", b'<rss version="2.0"/></entry>')
    head = b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>tag:f</id><title>F</title>'
    return head + b"".join(entries) + b"</feed>"


def tail_title(*numbers: int) -> bytes:
    """The channel's title after its items; item 1 holds an empty `<channel/>`."""
    items = b"".join(
        b"<item><title>I%d</title><link>https://e.org/%d</link>%s</item>" % (n, n, b"<channel/>" if n == 1 else b"")
        for n in numbers
    )
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><link>https://e.org/</link>'
    return head + items + b"<title>Tail title</title></channel></rss>"


def utf16(body: bytes) -> bytes:
    return body.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def doctype(body: bytes) -> bytes:
    return body.replace(b"?>\n", b'?>\n<!DOCTYPE rss [<!ENTITY snj "SNJ">]>', 1)
