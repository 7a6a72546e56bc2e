"""Three `sendbot run` processes on one PostgreSQL database post every item exactly once
(issue 15, "Measured"): the code of `python -m bench.instances` at a tenth of its size (20 new
items over 10 feeds, each in 20 channels: 400 posts), also when the busiest instance is killed
halfway and when one starts late. Counted from the Discord fake's messages."""

from __future__ import annotations

import pytest

from bench.instances import INSTANCES, SCENARIOS, parse_args, run_all
from tests.support.backends import PgCluster

pytestmark = pytest.mark.slow  # real subprocesses and a PostgreSQL server: left out of `make test-fast`


async def test_three_instances_post_each_item_once_in_each_channel_whatever_happens_to_one(pg: PgCluster) -> None:
    lines: list[str] = []
    args = parse_args(["--items", "20", "--timeout", "150"])
    results = await run_all(pg.server, args, lines.append)
    print("\n".join(lines))  # the measured lines, with -s
    assert [r.scenario for r in results] == list(SCENARIOS)
    for r in results:
        assert (r.instances, r.expected) == (INSTANCES, 400), r.line()
        assert (r.posted, r.duplicates, r.lost) == (400, 0, 0), "\n".join(lines)
        # A 429 costs a retry, not a post. The shared budget keeps them rare (none, mostly; a
        # few when the machine is busy); three pacers each on their own drew over a thousand.
        assert r.http_429 <= r.expected // 10, r.line()
