"""The delivery half of the feeds pipeline: the outbox's due deliveries sent to the platforms.

Split from feeds/service.py (issue 12): sending changes with the platforms and the outbox
(retries, edits, nonces, shutdown), polling with fetching and parsing. `DeliveryMixin` is
composed into `FeedService`, which owns the state declared here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from bot.messenger import DeliveryError, Messenger, NotSent
from bot.model import Reply
from feeds import scheduler
from feeds.channels import channel_of
from feeds.claims import keep_claims
from feeds.fanout import FanOut
from feeds.render import render_item, render_notice
from feeds.roundup import gather_due, render_roundup
from feeds.settings import FeedsSettings
from storage.claims import Claims
from storage.faults import fault_point
from storage.feeds import Delivery, FeedStore

if TYPE_CHECKING:
    from bot.core import BotCore

# The logger keeps the name it had before the split: operators' log filters and alerts (and
# the tests) select the pipeline's records by "feeds.service".
log = logging.getLogger("feeds.service")

MAX_DELIVERY_ATTEMPTS = 50
# Deliveries in flight at once, across channels (one at a time per channel). The platforms'
# own limits are kept by each messenger's pacer; this bounds tasks, connections and memory,
# and is enough to keep a pacer busy at 50 posts/s with a round trip of up to ~0.6 s.
DELIVERY_CONCURRENCY = 32
# Due deliveries read from the outbox at a time (more are read as these go out).
DELIVERY_BATCH = 200

DeliveryResult = Literal["sent", "retrying", "failed"]


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class _ItemGone(Exception):
    """The delivery's item was deleted before it could be sent (already marked failed)."""


class DeliveryMixin:
    """`deliver_due` and its steps; `FeedService.__init__` sets the state below."""

    core: BotCore
    config: FeedsSettings
    store: FeedStore
    _deliver_lock: asyncio.Lock
    _stopping: bool
    _send_idle: asyncio.Event  # clear while platform calls are in progress
    _sending: int  # platform calls in progress
    delivery_concurrency: int
    last_fanout_in_flight: int  # the most sends at once in the last deliver_due

    async def deliver_due(self) -> DeliverySummary:
        """Send every due delivery whose platform has a messenger; the rest wait, kept.

        Channels are served concurrently (feeds/fanout.py): at most DELIVERY_CONCURRENCY
        sends at once, one at a time per channel, each channel's deliveries oldest first
        (unsure ones first of all). A channel whose delivery must be retried later keeps its
        later deliveries back until the next call, so they never overtake it. How fast each
        platform may be called is its messenger's business (its pacer)."""
        summary = DeliverySummary()
        attempted: set[int] = set()

        async def send(d: Delivery) -> bool:
            result = await self._deliver_one(d)
            self.core.metrics.deliveries.labels(d.platform, result).inc()
            if result == "sent":
                summary.sent += 1
            elif result == "failed":
                summary.failed += 1
            else:
                summary.retrying += 1
            return result != "retrying"

        fanout: FanOut[Delivery] = FanOut(
            send, channel_of, concurrency=self.delivery_concurrency, stopping=lambda: self._stopping
        )

        async def more() -> list[Delivery]:
            # Each delivery is tried at most once per call, whatever happens to it. Only what
            # this instance claimed is sent (storage/claims.py): others may share the outbox.
            limit = DELIVERY_BATCH
            while True:
                due = await self.claims.claim_deliveries(self.core.now(), self.core.messengers.keys(), limit)
                fresh = [d for d in due if d.id not in attempted and not fanout.held(channel_of(d))]
                if fresh or len(due) < limit:
                    attempted.update(d.id for d in fresh)
                    return fresh
                limit *= 2  # every row seen was taken already: look further

        async with self._deliver_lock, keep_claims(self.claims, self.core.now):
            # Held posts now due (quiet hours over, digest time) become round-ups first.
            await gather_due(self.store, self.core.now(), self.core.messengers.keys())
            try:
                await fanout.run(more)
            finally:
                self.last_fanout_in_flight = fanout.max_in_flight
        return summary

    @property
    def claims(self) -> Claims:
        """This instance's claims on the outbox and the feeds (issue 15)."""
        return Claims(self.core.db, self.core.instance)

    async def _deliver_one(self, d: Delivery) -> DeliveryResult:
        messenger = self.core.messengers.get(d.platform)
        if messenger is None:
            return "retrying"
        now = self.core.now()
        # Recorded before the platform is called: if the bot is stopped mid-send, the next
        # start knows this delivery may have gone out, and settles it by its nonce.
        if not await self.claims.begin_send(d.id, now):
            # The claim lapsed and another instance took this delivery over: it is theirs.
            log.warning("delivery %s: its claim lapsed before the send; left to the instance holding it", d.id)
            return "retrying"
        fault_point("before-send")
        self._sending += 1
        self._send_idle.clear()
        try:
            message_id = await self._send(messenger, d)
        except _ItemGone:
            return "failed"
        except NotSent:
            # Given up before the platform was called (stopping): due again at the next start,
            # no attempt counted; a delivery already unsure stays so.
            if not d.unsure:
                await self.store.clear_sending(d.id)
            return "retrying"
        except DeliveryError as e:
            return await self._send_refused(d, e, now)
        except Exception as e:
            return await self._send_crashed(d, e, now)
        finally:
            self._sending -= 1
            if not self._sending:
                self._send_idle.set()
        fault_point("after-send")
        await self.store.mark_sent(d.id, message_id, self.core.now())
        return "sent"

    async def _send(self, messenger: Messenger, d: Delivery) -> str:
        """Call the platform: a notice, a new item, or an update (an edit where the platform
        can, else a new post marked updated). Returns the message's id."""
        if d.kind == "notice":
            return await messenger.post(channel_of(d), render_notice(d.body or ""), nonce=d.nonce, unsure=d.unsure)
        if d.kind == "roundup":
            items = await self.store.roundup_items(d.id)
            if not items:
                await self.store.mark_failed(d.id, "its items no longer exist")
                raise _ItemGone
            roundup = render_roundup(items, d.body, self.core.tz)
            return await messenger.post(channel_of(d), roundup, nonce=d.nonce, unsure=d.unsure)
        item = await self.store.item(d.item_id) if d.item_id is not None else None
        if item is None:
            await self.store.mark_failed(d.id, "the item no longer exists")
            raise _ItemGone
        reply: Reply
        where = channel_of(d)
        tz = await self.core.tz_for(where.platform, where.scope_id)  # the forum's own, cached
        if d.kind == "update":
            original = await self.store.original_message(d)
            if original and getattr(messenger, "can_edit", False):
                reply = render_item(item, tz=tz, summary_chars=self.config.summary_chars)
                await messenger.edit(channel_of(d), original, reply)
                return original
            reply = render_item(item, tz=tz, summary_chars=self.config.summary_chars, updated=True)
        else:
            reply = render_item(item, tz=tz, summary_chars=self.config.summary_chars, ping_role=d.ping_role)
        return await messenger.post(channel_of(d), reply, nonce=d.nonce, unsure=d.unsure)

    async def _send_refused(self, d: Delivery, e: DeliveryError, now: datetime) -> DeliveryResult:
        """The platform refused or failed: failed for good if permanent or out of attempts,
        else retried after a backoff (the platform's retry-after when it gave one)."""
        if e.permanent or d.attempts + 1 >= MAX_DELIVERY_ATTEMPTS:
            await self.store.mark_failed(d.id, str(e))
            log.warning("delivery %s to %s failed for good: %s", d.id, channel_of(d), e)
            return "failed"
        await self.store.mark_retry(d.id, str(e), now + scheduler.delivery_backoff(d.attempts, e.retry_after))
        return "retrying"

    async def _send_crashed(self, d: Delivery, e: Exception, now: datetime) -> DeliveryResult:
        """A bug in a messenger is retried like a failed send, within the same cap."""
        error = f"unexpected error ({type(e).__name__})"
        if d.attempts + 1 >= MAX_DELIVERY_ATTEMPTS:
            log.exception("delivery %s: unexpected error from the %s messenger; failed for good", d.id, d.platform)
            await self.store.mark_failed(d.id, error)
            return "failed"
        log.exception("delivery %s: unexpected error from the %s messenger", d.id, d.platform)
        await self.store.mark_retry(d.id, error, now + scheduler.delivery_backoff(d.attempts))
        return "retrying"
