"""What one changed feed costs to parse: `python -m bench.parse_cost`.

For the benchmark's two feed shapes (WordPress-like RSS 2.0 and GOV.UK-like Atom, 50 items of
about 1.4 KB, bench/feedserver.py), a feed that gained one item is parsed three ways in this
process, each many times:

- whole: the whole document, with what storage knows (`known`), as before feeds/chunks.py;
- cached: with the item cache from the previous fetch, as the poller does now (only the new
  item goes through feedparser);
- naive: the whole document with nothing known (every item's HTML converted), as the naive
  baseline of `make bench` does.

Prints a table and ends with one key=value line: median milliseconds per parse, the ratio
of whole to cached, and the size of one feed's item cache as the poller keeps it (KB).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.feedserver import ITEMS, render
from feeds.entries import parse_bytes
from storage.feeds.hashes import KnownHashes, _h, _h32


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(feed: int, repeats: int) -> dict[str, float]:
    url = f"https://bench.example/f/{feed}"
    before, after = render(feed, ITEMS), render(feed, ITEMS + 1)
    last = parse_bytes(before, url, text_for_new=False)
    known = KnownHashes({_h(item.item_key): _h32(item.raw_hash) for item in last.items})
    cached = parse_bytes(after, url, known, cache=last.cache)
    whole = parse_bytes(after, url, known)
    assert cached.items == whole.items and cached.items_read == 1, "the cached parse must equal the whole one"
    return {
        "cache_kb": len(cached.cache or b"") / 1024,
        "whole": _median_ms(lambda: parse_bytes(after, url, known), repeats),
        "cached": _median_ms(lambda: parse_bytes(after, url, known, cache=last.cache), repeats),
        "naive": _median_ms(lambda: parse_bytes(after, url), repeats),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.parse_cost", description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=60, help="parses of each kind per shape (default 60)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    print(f"{'shape':<10} {'whole ms':>9} {'cached ms':>10} {'naive ms':>9}")
    rows = {"rss": measure(0, args.repeats), "atom": measure(1, args.repeats)}
    for shape, r in rows.items():
        print(f"{shape:<10} {r['whole']:9.2f} {r['cached']:10.2f} {r['naive']:9.2f}")
    whole = statistics.mean(r["whole"] for r in rows.values())
    cached = statistics.mean(r["cached"] for r in rows.values())
    naive = statistics.mean(r["naive"] for r in rows.values())
    cache_kb = statistics.mean(r["cache_kb"] for r in rows.values())
    print(
        f"whole_ms={whole:.2f} cached_ms={cached:.2f} naive_ms={naive:.2f} whole_vs_cached={whole / cached:.1f}"
        f" cache_kb={cache_kb:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
