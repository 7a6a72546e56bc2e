"""Fan-out: many channels' deliveries sent concurrently, each channel one at a time.

`FanOut.run` calls `send` for every job it is given, at most `concurrency` at once and at most
one per lane (a lane is a channel): a lane's jobs go in the order they were added, each only
after the one before it finished. Ready lanes take turns (round robin), so a channel with a
long backlog never starves the others, and a slow channel holds at most one of the slots.
A job whose outcome says the lane should wait (a retry is due later) ends its lane for this
run: the lane's later jobs are left for the next run rather than overtaking it.

`more()` is asked for further jobs whenever few are waiting, and once more when everything
has finished; a run ends when it returns nothing new then. Whoever calls it decides
what the pacing is: here only concurrency and order are kept (the platform pacers live in
the adapters).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

Job = TypeVar("Job")


class FanOut(Generic[Job]):
    def __init__(
        self,
        send: Callable[[Job], Awaitable[bool]],
        lane_of: Callable[[Job], Hashable],
        *,
        concurrency: int,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """`send(job)` returns True when the lane may go on, False when its later jobs must
        wait for another run. An exception from `send` stops the run: nothing new is started,
        the sends in flight finish, and the first exception is raised."""
        self._send = send
        self._lane_of = lane_of
        self._concurrency = max(1, concurrency)
        self._stopping = stopping
        self._lanes: dict[Hashable, deque[Job]] = {}
        self._ready: deque[Hashable] = deque()  # lanes with work and nothing in flight
        self._busy: set[Hashable] = set()
        self._held: set[Hashable] = set()  # lanes ended for this run
        self._waiting = 0  # jobs added, not yet started
        self.max_in_flight = 0  # the most sends at once (for tests and the benchmark)

    def held(self, lane: Hashable) -> bool:
        return lane in self._held

    def add(self, jobs: Iterable[Job]) -> int:
        """Queue jobs (a held lane's are dropped); returns how many were queued."""
        added = 0
        for job in jobs:
            lane = self._lane_of(job)
            if lane in self._held:
                continue
            queue = self._lanes.get(lane)
            if queue is None:
                queue = self._lanes[lane] = deque()
            if not queue and lane not in self._busy:
                self._ready.append(lane)
            queue.append(job)
            added += 1
        self._waiting += added
        return added

    async def run(self, more: Callable[[], Awaitable[Iterable[Job]]]) -> None:
        tasks: dict[asyncio.Task[bool], Hashable] = {}
        error: BaseException | None = None
        exhausted = False  # the last more() found nothing new
        try:
            while True:
                stop = self._stopping() or error is not None
                while not stop and self._ready and len(tasks) < self._concurrency:
                    lane = self._ready.popleft()
                    job = self._lanes[lane].popleft()
                    self._waiting -= 1
                    self._busy.add(lane)
                    tasks[asyncio.ensure_future(self._send(job))] = lane
                    self.max_in_flight = max(self.max_in_flight, len(tasks))
                if not stop and not exhausted and self._waiting < self._concurrency:
                    exhausted = not self.add(await more())
                    if not exhausted:
                        continue
                if not tasks:
                    if stop:
                        break
                    if self._ready:
                        continue
                    # Everything finished: look once more (a delivery may have become due).
                    if not self.add(await more()):
                        break
                    exhausted = False
                    continue
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    lane = tasks.pop(task)
                    self._busy.discard(lane)
                    queue = self._lanes[lane]
                    try:
                        go_on = task.result()
                    except BaseException as e:  # re-raised once the others finish
                        error = error or e
                        go_on = False
                    if not go_on:
                        self._held.add(lane)
                        self._waiting -= len(queue)
                        queue.clear()
                    if queue:
                        self._ready.append(lane)
                    else:
                        del self._lanes[lane]
        finally:
            # Cancelled (the bot is stopping past its grace): the sends still in flight go too;
            # each is marked in flight in the database and settled at the next start.
            for task in tasks:
                task.cancel()
            if tasks:
                with contextlib.suppress(BaseException):
                    await asyncio.gather(*tasks, return_exceptions=True)
        if error is not None:
            raise error
