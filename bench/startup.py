"""Cold start of `sendbot ask '!help'`: `python -m bench.startup [--runs 7]`.

Each run is a fresh interpreter, as a parent's one-off question or a health check would be.
The baseline in the same run is an interpreter that imports what an eager start-up loaded
(the fetcher, the parser and their libraries, the calendar and phone-number libraries),
then answers the same way: the difference is what lazy imports save. The last line is
`ask_help_s=<median> eager_s=<median> python_s=<median of an empty interpreter>`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

EAGER = "import aiohttp, feedparser, lxml.html, pebble, icalendar, phonenumbers, feeds.fetch, feeds.parse"
ASK = "import sys; sys.argv = ['sendbot', 'ask', '!help']; from bot.cli import main; sys.exit(main())"


def timed(code: str, cwd: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDBOT_", "DISCORD_", "SLACK_"))}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="fresh interpreters per variant (default 7)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="sendbot-startup-") as cwd:
        timed(ASK, cwd)  # compile caches once, so every variant is measured warm on disk
        ask, eager, bare = [], [], []
        for _ in range(args.runs):  # interleaved, so load from other work hits all three alike
            ask.append(timed(ASK, cwd))
            eager.append(timed(EAGER + "\n" + ASK, cwd))
            bare.append(timed("pass", cwd))
    med = {name: statistics.median(v) for name, v in (("ask", ask), ("eager", eager), ("python", bare))}
    print(f"sendbot ask '!help' (lazy imports): median {med['ask']:.3f} s, min {min(ask):.3f} s")
    print(f"same, fetcher and parser loaded at start: median {med['eager']:.3f} s")
    print(f"an empty Python interpreter: median {med['python']:.3f} s")
    print(f"{'PASS' if med['ask'] < 0.5 else 'MISS'}  sendbot ask '!help' cold start < 0.5 s")
    print(f"ask_help_s={med['ask']:.3f} eager_s={med['eager']:.3f} python_s={med['python']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
