"""The pipeline's side of claimed work (issue 15; the SQL is storage/claims.py).

- `keep_claims`: while a fan-out runs, the deliveries this instance claimed are renewed
  every third of their lease, so a long run never lets another instance take over a live
  claim; at the end (or when stopped) whatever is still held is given back.
- `leased_feeds`: of the feeds listed as due, those this instance may fetch (the others are
  another live instance's, or were fetched since they were listed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

from storage.claims import CLAIM_LEASE, Claims
from storage.feeds import Feed

log = logging.getLogger("feeds.service")


@contextlib.asynccontextmanager
async def keep_claims(
    claims: Claims, now: Callable[[], datetime], *, lease: timedelta = CLAIM_LEASE
) -> AsyncIterator[None]:
    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await claims.renew_deliveries(now(), lease=lease)
            except Exception as e:  # the database is struggling: the next renewal tries again
                log.warning("could not renew this instance's delivery claims (%s)", type(e).__name__)

    renewer = asyncio.get_running_loop().create_task(renew(), name="feeds-claim-renewal")
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        # Shielded: a stop that cancels the run still gives the claims back (else they wait
        # out their lease; harmless, since a claim never outlives its lease).
        with contextlib.suppress(Exception):
            await asyncio.shield(claims.release_deliveries())


async def leased_feeds(claims: Claims, feeds: Sequence[Feed], now: datetime, *, force: bool) -> list[Feed]:
    """The feeds (in their order) whose fetch lease this instance took."""
    if not feeds:
        return []
    mine = await claims.lease_feeds([f.id for f in feeds], now, force=force)
    if skipped := len(feeds) - len(mine):
        log.debug("feeds: %d due feed(s) are being fetched by another instance", skipped)
    return [f for f in feeds if f.id in mine]
