"""The rate pacer for a platform's shared limit (bot/adapters/pacing.py)."""

from __future__ import annotations

import asyncio
import bisect
import itertools

import pytest

from bot.adapters.pacing import RatePacer
from bot.messenger import NotSent


def most_within(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + seconds) - i for i, t in enumerate(times))


async def test_calls_are_spaced_evenly_under_the_rate() -> None:
    pacer = RatePacer(40)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def call() -> None:
        async with pacer:
            times.append(loop.time())

    await asyncio.gather(*(call() for _ in range(50)))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert pacer.rate == pytest.approx(38.0)
    assert min(gaps) >= 0.0  # in the order asked, never two at once beyond one made-up slot
    assert sum(gaps) >= 49 / 38 - 2 / 38  # at most one late slot made up at a time
    assert pacer.window_cap == 40 and pacer.window == pytest.approx(1 / 0.95)
    # The platform's limit is never reached even if calls arrive ~50 ms more bunched.
    assert most_within(times, pacer.window) <= 40


async def test_hold_stops_every_call_until_the_time_has_passed() -> None:
    pacer = RatePacer(100)
    loop = asyncio.get_running_loop()
    await pacer.acquire()
    pacer.hold(0.3)
    start = loop.time()
    await pacer.acquire()
    assert loop.time() - start >= 0.29


async def test_a_stall_is_made_up_by_one_slot_not_a_burst() -> None:
    pacer = RatePacer(20)  # 19/s: slots ~53 ms apart
    loop = asyncio.get_running_loop()
    await pacer.acquire()
    await asyncio.sleep(0.5)  # the caller was busy for ten slots
    times = []
    for _ in range(4):
        await pacer.acquire()
        times.append(loop.time())
    # Two at once (the late slot and one made up), then the even pace again.
    assert times[1] - times[0] < 0.02
    assert times[2] - times[1] >= 0.04 and times[3] - times[2] >= 0.04


def test_a_pacer_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RatePacer(0)


async def test_when_the_bot_is_stopping_a_call_that_would_wait_is_not_made() -> None:
    stopping = False
    pacer = RatePacer(10, stopping=lambda: stopping)
    await pacer.acquire()
    await pacer.acquire()  # (after idle, two go at once: a late slot made up)
    stopping = True
    with pytest.raises(NotSent):
        await pacer.acquire()  # its slot is ~105 ms away
    await pacer.acquire(may_give_up=False)  # a later part of a post already begun still goes
    await asyncio.sleep(0.25)
    await pacer.acquire()  # no wait needed: made, stopping or not
