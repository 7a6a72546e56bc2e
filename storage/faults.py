"""Test-only fault injection at named points, inert unless SENDBOT_FAULT is set.

The crash tests (tests/feeds/test_crash_delivery.py) stop the bot at exact moments of a delivery to
prove that nothing is lost or doubled: `SENDBOT_FAULT=after-send:kill` makes the process
SIGKILL itself the first time it reaches `fault_point("after-send")`; `:term` sends SIGTERM
instead (a normal stop, arriving mid-send) and carries on. `SENDBOT_FAULT=after-send:kill:3`
acts at the third time the point is reached. Points: before-send (the delivery is marked in
flight, the platform not yet called), after-send (the platform accepted the message, the
database has not recorded it), commit (inside the transaction that records it, before COMMIT).

Read once per process; a running bot without the variable pays one dict lookup per point.
"""

from __future__ import annotations

import os
import signal
from functools import cache

POINTS = ("before-send", "after-send", "commit")
_counts: dict[str, int] = {}


@cache
def _plan() -> tuple[str, str, int] | None:
    raw = os.environ.get("SENDBOT_FAULT", "").strip()
    if not raw:
        return None
    point, _, rest = raw.partition(":")
    action, _, nth = rest.partition(":")
    if point not in POINTS or action not in ("kill", "term"):
        raise SystemExit(f"sendbot: SENDBOT_FAULT={raw!r}: expected <{'|'.join(POINTS)}>:<kill|term>[:n]")
    return point, action, int(nth or 1)


def fault_point(name: str) -> None:
    """Act here if SENDBOT_FAULT names this point (see the module docstring)."""
    plan = _plan()
    if plan is None or plan[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] != plan[2]:
        return
    os.kill(os.getpid(), signal.SIGKILL if plan[1] == "kill" else signal.SIGTERM)
