"""Buttons whose meaning stays on the server: the offers behind `Choice` tokens.

A cog offers choices (`core.choices.offer`): each gets a random token, bound to the one person
the reply answers, to the handler it runs (`action`) and to the data that handler needs. A
platform sends back only the token when a button is pressed; `take` checks who pressed it and
that it has not run out, and the dispatcher runs the handler with the stored data
(`Dispatcher.choose`). So a forged or replayed button can do nothing but be refused.

Offers are kept in memory, each with an expiry: a restart cancels them (the person types the
command again). Choices offered together are one group: pressing one uses them all, so
Confirm cannot be pressed after Cancel, nor twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.errors import UserError
from bot.model import Actor, Choice, ChoiceStyle

DEFAULT_TTL = timedelta(minutes=10)
MAX_OFFERS = 5000  # the oldest go first past this: memory stays bounded whatever happens

EXPIRED = "That button has run out, or it was already used. Please type the command again."
NOT_YOURS = "These buttons are for the person who asked. You can type the command yourself."


@dataclass(frozen=True)
class Option:
    """One button a cog offers: what pressing it runs, its words, and the data kept for it."""

    action: str
    label: str
    data: Any = None
    style: ChoiceStyle = "secondary"


@dataclass(frozen=True)
class Offer:
    token: str
    action: str
    data: Any
    actor: tuple[str, str]
    expires_at: datetime
    group: str


class Choices:
    """The offers waiting for a press, by token."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._offers: dict[str, Offer] = {}

    def offer(self, actor: Actor, options: Sequence[Option], *, ttl: timedelta = DEFAULT_TTL) -> tuple[Choice, ...]:
        """Buttons for `actor` alone; pressing one uses up the whole group."""
        self._forget_expired()
        now = self._clock()
        expires = now + ttl
        group = secrets.token_urlsafe(8)
        choices = []
        for option in options:
            token = secrets.token_urlsafe(16)
            self._offers[token] = Offer(token, option.action, option.data, actor.key, expires, group)
            choices.append(Choice(option.action, option.label, token, option.style, expires))
        while len(self._offers) > MAX_OFFERS:
            del self._offers[next(iter(self._offers))]
        return tuple(choices)

    def take(self, token: str, actor: Actor) -> Offer:
        """The offer behind a pressed button, used up with its group. Refused (UserError) when
        it is unknown, used or out of time, or when someone else pressed it (theirs is kept)."""
        offer = self._offers.get(token) if isinstance(token, str) else None
        if offer is None or offer.expires_at <= self._clock():
            raise UserError(EXPIRED)
        if offer.actor != actor.key:
            raise UserError(NOT_YOURS)
        self._drop_group(offer.group)
        return offer

    def held_for_another(self, token: str, actor: Actor) -> bool:
        """Whether this token is a live offer for someone else (their buttons stay as they
        are when another person presses a copy)."""
        offer = self._offers.get(token) if isinstance(token, str) else None
        return offer is not None and offer.expires_at > self._clock() and offer.actor != actor.key

    def find(self, actor: Actor, action: str, data: Any) -> Offer | None:
        """The live offer this person has for this action and data (a typed `confirm` takes the
        same offer a button would, so the two cannot both go through)."""
        now = self._clock()
        for offer in self._offers.values():
            if offer.actor == actor.key and offer.action == action and offer.data == data and offer.expires_at > now:
                return offer
        return None

    def _drop_group(self, group: str) -> None:
        for token in [t for t, o in self._offers.items() if o.group == group]:
            del self._offers[token]

    def _forget_expired(self) -> None:
        now = self._clock()
        for token in [t for t, o in self._offers.items() if o.expires_at <= now]:
            del self._offers[token]

    def __len__(self) -> int:
        return len(self._offers)
