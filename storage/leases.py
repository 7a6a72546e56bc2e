"""Leases for singleton jobs (issue 15): work that must run on one instance at a time.

Report maintenance (retention, announcement retries) runs hourly on every instance's loop,
but only the instance holding its lease does the work. A lease is a row in `leases` (name,
holder, held_until), taken with one upsert that succeeds only when the row is absent, lapsed
or already this holder's, so two instances can never both hold it. The holder renews it
while the job runs (`Leases.held`); an instance that dies stops renewing, and another takes
the job over once the lease has run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from storage.feeds.records import iso
from storage.handle import Database

log = logging.getLogger(__name__)


def new_instance_id() -> str:
    """This process's name in claims and leases: host, pid and a random part (a pid may be
    reused after a restart, or in another container on the same host)."""
    host = socket.gethostname().split(".")[0][:40] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


class Leases:
    """Named leases held by one instance (`instance`), timed by `clock` (the bot's clock)."""

    def __init__(self, db: Database, instance: str, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.instance = instance
        self._clock = clock

    async def try_lease(self, name: str, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `ttl`: True if this instance holds it now."""
        now = self._clock()
        row = await self.db.fetchone(
            "INSERT INTO leases(name, holder, held_until) VALUES (?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until"
            " WHERE leases.holder = excluded.holder OR leases.held_until <= ?"
            " RETURNING holder",
            (name, self.instance, iso(now + ttl), iso(now)),
        )
        return row is not None and row[0] == self.instance

    async def release(self, name: str) -> None:
        """Give the lease up (the job is done): another instance may take it at once."""
        await self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, self.instance))

    async def holder(self, name: str) -> str | None:
        """Who holds `name` now (None: nobody, or the lease has run out)."""
        row = await self.db.fetchone(
            "SELECT holder FROM leases WHERE name = ? AND held_until > ?", (name, iso(self._clock()))
        )
        return str(row[0]) if row else None

    @contextlib.asynccontextmanager
    async def held(self, name: str, ttl: timedelta, *, release: bool = True) -> AsyncIterator[bool]:
        """`async with leases.held(name, ttl) as mine:` run the job only if `mine`. While the
        block runs the lease is renewed every third of `ttl`; at the end it is released
        (or, with `release=False`, kept until it runs out: "once per interval")."""
        mine = await self.try_lease(name, ttl)
        if not mine:
            yield False
            return
        renewer = asyncio.get_running_loop().create_task(self._renew(name, ttl), name=f"lease-{name}")
        try:
            yield True
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if release:
                with contextlib.suppress(Exception):  # a lease not given back runs out anyway
                    await asyncio.shield(self.release(name))

    async def _renew(self, name: str, ttl: timedelta) -> None:
        while True:
            await asyncio.sleep(max(0.05, ttl.total_seconds() / 3))
            try:
                if not await self.try_lease(name, ttl):
                    log.warning("lease %s was lost to another instance while its job ran", name)
                    return
            except Exception as e:  # the database is struggling: try again next time
                log.warning("could not renew lease %s (%s)", name, type(e).__name__)
