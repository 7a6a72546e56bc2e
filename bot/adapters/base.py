"""What every platform adapter does the same way, written once so the platforms cannot drift.

- **The way a reply travels** (`send`): a public reply goes where the command was typed; a
  private one tries the platform's own private reply (an ephemeral message), then a direct
  message, then a public reply, so a surface without ephemerals degrades but never drops it.
- **The command message** (`Adapter.deliver`): when an outcome asks for the trigger to go (a
  `private_input` command such as `!report`, typed in a shared place), it is removed before
  anything is answered. If the platform refuses, the refusal is logged once, the pending
  delete is settled, and, after the answer, the author is told privately that their message is
  still up and why. When such a command was refused, the author first gets their own words
  back (`Outcome.give_back`) by a private way only; with no private way the message is left
  up, so a refusal never loses what was typed.
- **The failure note** (`Adapter.tell_failure`): an error outside the dispatcher is logged with
  a reference and the person gets `bot.errors.failure_reply` (the same words the dispatcher
  uses), never a traceback and never silence.
- **Secrets** (`secret_text`): tokens are read the same way everywhere.

A platform supplies an `Answer` for each incoming command: the few calls the rules above are
made of (post here, post privately, send a direct message, remove the command message).
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from bot.errors import failure_reply, new_reference
from bot.messenger import DeliveryError
from bot.model import Incoming, Reply

if TYPE_CHECKING:
    from pydantic import SecretStr

    from bot.core import BotCore
    from bot.dispatcher import Outcome

log = logging.getLogger(__name__)


def secret_text(value: SecretStr | None) -> str:
    """A configured secret as text, "" when unset (config keeps them as SecretStr so they never
    reach a repr or a log)."""
    return value.get_secret_value() if value is not None else ""


def has_trigger(incoming: Incoming) -> bool:
    """Whether there is a command message that could be removed: only one typed in a shared
    place. A slash command or a menu leaves no message, and a direct message is already private."""
    return incoming.surface == "prefix" and bool(incoming.message_id) and not incoming.place.is_direct


def not_removed_note(why: str) -> Reply:
    """What the author is told when their command message could not be removed."""
    return Reply(f"I couldn't remove your message from the channel: {why}. You may want to delete it.", ephemeral=True)


# When the words of a refused private command could not be handed back privately, the
# message is left up rather than lost (see Adapter.deliver).
KEPT_FOR_YOU = Reply(
    "I left your message in the channel, because I couldn't send you a private copy of it. "
    "Please copy your words, then delete your message.",
    ephemeral=True,
)


class Answer(ABC):
    """The way back to whoever sent one command, on one surface of one platform.

    Each method raises DeliveryError when the platform refuses or cannot be reached; any
    other exception is a bug and reaches the adapter's `tell_failure`."""

    # A surface that shows the person a pending state until it is answered (Discord's
    # "thinking…" after a deferral): when a reply cannot be delivered, they get the failure
    # note instead, rather than a spinner that never stops.
    must_answer: bool = False

    async def private(self, reply: Reply) -> bool:
        """The platform's own private reply (an ephemeral message); False if this surface has none."""
        return False

    async def direct(self, reply: Reply) -> bool:
        """A direct message to the author; False if that is not possible here (DMs closed, or
        the command came in a direct message, where a public reply is already private)."""
        return False

    @abstractmethod
    async def public(self, reply: Reply) -> None:
        """A reply where the command was sent."""

    async def remove_trigger(self) -> None:
        """Remove the command message; return quietly if it is already gone."""
        raise DeliveryError("this surface has no command message to remove", permanent=True)

    def why_kept(self, error: DeliveryError) -> str:
        """Why the command message could not be removed, in words for its author."""
        return "the platform did not allow it"

    async def failure(self, reply: Reply) -> None:
        """Where the failure note goes: by default privately, in the order of any private reply."""
        await send(self, reply)


async def send(answer: Answer, reply: Reply) -> None:
    """One reply, public or private, in the one order every platform follows."""
    if reply.ephemeral and (await answer.private(reply) or await answer.direct(reply)):
        return
    await answer.public(reply)


class Adapter:
    """Base of the console, Discord and Slack adapters: delivering an outcome and telling a
    person about a failure, the same way on every platform."""

    platform: str
    core: BotCore

    async def deliver(self, outcome: Outcome, incoming: Incoming, answer: Answer) -> bool:
        """Carry out an outcome; True when every reply was delivered.

        The command message goes first, so words a parent wanted kept private are on show for
        as short a time as possible (and no answer is threaded under a message that is about
        to vanish). A reply the platform refuses does not stop the others; `after_delivery`
        steps run only when all of them got through. The note about a message that could not
        be removed comes last, so the answer itself is what the author sees first."""
        why_kept = None
        kept_for_author = False
        if outcome.delete_trigger and has_trigger(incoming):
            if outcome.give_back is not None and not await self._give_back(outcome.give_back, incoming, answer):
                kept_for_author = True
            else:
                why_kept = await self._remove_trigger(incoming, answer)
        failures: list[DeliveryError] = []
        for reply in outcome.replies:
            try:
                await send(answer, reply)
            except DeliveryError as e:
                failures.append(e)
        if failures:
            await self._undelivered(outcome, incoming, answer, failures)
        else:
            await outcome.delivered()
        if why_kept is not None:
            with contextlib.suppress(DeliveryError):
                await send(answer, not_removed_note(why_kept))
        if kept_for_author:
            with contextlib.suppress(DeliveryError):
                await send(answer, KEPT_FOR_YOU)
        return not failures

    async def _give_back(self, reply: Reply, incoming: Incoming, answer: Answer) -> bool:
        """Hand a refused private command's words back to its author by a private way only
        (an ephemeral message, else a direct message; never the channel), before the message
        is removed. False when there is no private way: the message is then left up, so the
        words are not lost, and the pending delete is settled so it is not removed later."""
        try:
            if await answer.private(reply) or await answer.direct(reply):
                return True
            problem = DeliveryError("no private way to reach the author", permanent=True)
        except DeliveryError as e:
            problem = DeliveryError(str(e), permanent=True)
        log.info("%s: kept a refused command message in %s: %s", self.platform, incoming.place.id, problem)
        await self.core.trigger_deleted(self.platform, incoming.place.id, incoming.message_id or "", problem)
        return False

    async def _remove_trigger(self, incoming: Incoming, answer: Answer) -> str | None:
        """Remove the command message; the reason for its author if it could not be removed."""
        channel, message_id = incoming.place.id, incoming.message_id or ""
        try:
            await answer.remove_trigger()
        except DeliveryError as e:
            why = answer.why_kept(e)
            log.info("%s: could not remove a command message in %s: %s (%s)", self.platform, channel, e, why)
            # A refusal is final; a passing failure stays pending for the next connect.
            await self.core.trigger_deleted(self.platform, channel, message_id, e)
            return why
        await self.core.trigger_deleted(self.platform, channel, message_id)
        return None

    async def _undelivered(
        self, outcome: Outcome, incoming: Incoming, answer: Answer, failures: list[DeliveryError]
    ) -> None:
        errors = "; ".join(str(e) for e in failures)
        what = f"{self.platform}: could not answer {outcome.command or 'a command'} in {incoming.place.id}"
        if not answer.must_answer:
            log.warning("%s: %s", what, errors)
            return
        ref = new_reference()
        log.warning("%s ref=%s: %s", what, ref, errors)
        await self._failure_note(answer, ref)

    async def tell_failure(self, answer: Answer | None, what: str, error: BaseException | None = None) -> str:
        """Log an unexpected error with a fresh reference (call it in the `except` block, or
        pass the error) and give the person that reference; return it."""
        ref = new_reference()
        # What the person wrote is never logged: a report may name a child.
        log.error("%s: failed to handle %s ref=%s", self.platform, what, ref, exc_info=error or True)
        if answer is not None:
            await self._failure_note(answer, ref)
        return ref

    @staticmethod
    async def _failure_note(answer: Answer, ref: str) -> None:
        # Best effort: whatever failed may fail again, and the error is logged already.
        with contextlib.suppress(Exception):
            await answer.failure(failure_reply(ref))
