"""Turns an Incoming into replies: parse, permissions, cooldowns, and the one error handler.

Every surface ends here (typed text, slash commands, context-menu actions), so a user
sees the same hint for the same mistake everywhere and never a traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rapidfuzz import fuzz, process

from bot.commands import CommandSpec
from bot.context import CommandContext
from bot.cooldowns import Cooldowns
from bot.errors import CooldownActive, PermissionDenied, UsageError, UserError, failure_reply, new_reference
from bot.markup import escape
from bot.model import Incoming, Reply

if TYPE_CHECKING:
    from bot.core import BotCore

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]{0,39}")

log = logging.getLogger(__name__)

ActionCallback = Callable[..., Awaitable[Any]]


OutcomeStatus = Literal["ok", "usage", "denied", "cooldown", "user_error", "error", "unknown"]


@dataclass
class Outcome:
    """What the adapter should do in answer to one incoming command."""

    replies: list[Reply] = field(default_factory=list)
    status: OutcomeStatus = "ok"
    delete_trigger: bool = False
    error_ref: str | None = None
    command: str | None = None
    # What the cog asked to run once the answer has reached the person (a report's receipt is
    # recorded as delivered, so a crash before it went out is made good at the next start).
    after_delivery: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # What the person typed, to hand back privately before their message is removed, when a
    # `private_input` command typed in a shared place was refused: nothing typed is lost.
    # Adapters send it only by a private way, never publicly (see Adapter.deliver).
    give_back: Reply | None = None

    async def delivered(self) -> None:
        """Adapters call this after every reply has been sent."""
        for callback in self.after_delivery:
            try:
                await callback()
            except Exception:
                log.exception("after-delivery step of !%s failed", self.command)


def as_replies(result: Any) -> list[Reply]:
    """Cogs may return a Reply, a str, a list of either, or None."""
    if result is None:
        return []
    if isinstance(result, (Reply, str)):
        result = [result]
    out = []
    for item in result:
        out.append(Reply(text=item) if isinstance(item, str) else item)
    return out


def give_back_reply(typed: str) -> Reply:
    """The person's own words, handed back privately when a private command was refused and
    its message is about to be removed from the channel. Escaped, so it shows exactly what
    they typed and cannot add links, formatting or pings."""
    return Reply(
        "Here is what you wrote, so you don't lose it. You can copy it, change it and send it again:\n\n"
        + escape(typed.strip()),
        ephemeral=True,
    )


def clean_input(value: Any) -> Any:
    """Input with every string made encodable as UTF-8.

    Discord and Slack send JSON, where an escape such as "\\ud800" decodes to a lone
    surrogate; such a string cannot be written to SQLite, a log or a socket. Every entry point
    below passes its input through here once, so no cog has to care. Strings inside
    dataclasses (Incoming, Actor, Place, ReportedMessage), dicts, lists and tuples are
    cleaned too; anything else is returned as it is."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            cleaned = value.encode("utf-8", "replace").decode("utf-8")
            return cleaned if type(value) is str else type(value)(cleaned)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = clean_input(old)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, dict):
        items = {k: clean_input(v) for k, v in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        seq = [clean_input(v) for v in value]
        return type(value)(seq) if any(a is not b for a, b in zip(seq, value, strict=True)) else value
    return value


class Dispatcher:
    def __init__(self, core: BotCore) -> None:
        self.core = core
        self.cooldowns = Cooldowns()
        self._by_name: dict[str, CommandSpec] = {}
        self._specs: list[CommandSpec] = []
        self._actions: dict[str, ActionCallback] = {}
        self._choice_handlers: dict[str, ActionCallback] = {}

    # -- registry --------------------------------------------------------------------

    def register(self, specs: Iterable[CommandSpec]) -> None:
        for spec in specs:
            for key in (spec.name, *spec.aliases):
                if key in self._by_name:
                    raise ValueError(f"duplicate command name or alias {key!r}")
                self._by_name[key] = spec
            self._specs.append(spec)

    def register_action(self, name: str, callback: ActionCallback) -> None:
        """Actions are operations adapters call directly (e.g. "report_message")."""
        if name in self._actions:
            raise ValueError(f"duplicate action {name!r}")
        self._actions[name] = callback

    def register_choice(self, action: str, callback: ActionCallback) -> None:
        """What a button offered with this action runs: `callback(ctx, data)`, where `data` is
        what the cog stored with the offer (bot/choices.py), never anything the client sent."""
        if action in self._choice_handlers:
            raise ValueError(f"duplicate choice action {action!r}")
        self._choice_handlers[action] = callback

    @property
    def specs(self) -> list[CommandSpec]:
        return sorted(self._specs, key=lambda s: s.name)

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(" ".join(name.lower().split()))

    def subcommands(self, group: str) -> list[CommandSpec]:
        return [s for s in self.specs if s.parent == group]

    def resolve(self, body: str) -> tuple[CommandSpec | None, str, str]:
        """Split "feeds add url" into (spec, invoked name, argument text); longest name wins."""
        parts = body.split(maxsplit=2)
        if not parts:
            return None, "", ""
        first = parts[0].lower()
        if len(parts) >= 2:
            two = f"{first} {parts[1].lower()}"
            spec = self._by_name.get(two)
            if spec is not None:
                return spec, two, parts[2] if len(parts) > 2 else ""
        spec = self._by_name.get(first)
        rest = body.split(maxsplit=1)
        return spec, first, rest[1] if len(rest) > 1 else ""

    # -- entry points ----------------------------------------------------------------

    def is_command(self, text: str) -> bool:
        prefix = self.core.prefix
        return text.startswith(prefix) and len(text) > len(prefix) and text[len(prefix)].isalpha()

    async def handle(self, incoming: Incoming) -> Outcome | None:
        """Handle a typed message. None means it was not addressed to the bot."""
        incoming = clean_input(incoming)
        text = incoming.text.strip()
        if not self.is_command(text):
            return None
        body = text[len(self.core.prefix) :]
        spec, invoked, argtext = self.resolve(body)
        if spec is None:
            if not self.core.config.bot.reply_to_unknown:
                return None
            return self._unknown(invoked)
        word = self._unknown_subcommand(spec, argtext)
        if word is not None:
            return await self._run(spec, incoming, lambda: self._no_subcommand(spec, word))
        return await self._run(spec, incoming, lambda: spec.parse(argtext))

    async def invoke(self, spec: CommandSpec, incoming: Incoming, raw_args: dict[str, Any]) -> Outcome:
        """Run a command whose arguments came typed (slash command options)."""
        incoming, raw_args = clean_input(incoming), clean_input(raw_args)
        return await self._run(spec, incoming, lambda: spec.convert(raw_args))

    async def perform(self, action: str, incoming: Incoming, **kwargs: Any) -> Outcome:
        """Run a registered action with the same error handling as commands."""
        incoming, kwargs = clean_input(incoming), clean_input(kwargs)
        callback = self._actions.get(action)
        if callback is None:
            return Outcome([Reply("That isn't available on this bot.", ephemeral=True)], status="unknown")
        ctx = CommandContext(self.core, incoming, None)
        return await self._guard(ctx, action, lambda: callback(ctx, **kwargs))

    async def choose(self, incoming: Incoming, token: str) -> Outcome:
        """A button was pressed: run what its token was offered for, with the same error
        handling as commands. The token is all a platform sends; who may press it, what it
        runs and with what data are looked up here (a forged, used or expired one is refused)."""
        incoming = clean_input(incoming)
        ctx = CommandContext(self.core, incoming, None)
        name = "a button"

        async def call() -> Any:
            nonlocal name
            offer = self.core.choices.take(str(token)[:100], incoming.author)
            name = offer.action
            callback = self._choice_handlers.get(offer.action)
            if callback is None:
                return Reply("That button isn't available on this bot any more.", ephemeral=True)
            return await callback(ctx, offer.data)

        outcome = await self._guard(ctx, name, call, label=lambda: name)
        outcome.command = name  # the action, once the token was found
        return outcome

    # -- internals -------------------------------------------------------------------

    def _unknown(self, invoked: str) -> Outcome:
        names = sorted({s.words[0] for s in self._specs if not s.hidden})
        hint = ""
        match = process.extractOne(invoked, names, scorer=fuzz.ratio, score_cutoff=60)
        if match:
            hint = f" Did you mean `{self.core.prefix}{match[0]}`?"
        safe = invoked.replace("`", "'")[:30]
        text = f"I don't know the command `{self.core.prefix}{safe}`.{hint} Type `{self.core.prefix}help` for the list."
        self.core.metrics.command(None, "unknown", 0.0)
        return Outcome([Reply(text, ephemeral=True)], status="unknown")

    def _unknown_subcommand(self, spec: CommandSpec, argtext: str) -> str | None:
        """The word, when a group whose first argument is a number (`!reports 2`) is given a
        word that is not one of its subcommands (`!reports shwo 1`)."""
        if spec.parent is not None or not spec.args or spec.args[0].kind != "int" or spec.args[0].option:
            return None
        if not self.subcommands(spec.name):
            return None
        words = argtext.split(maxsplit=1)
        if words and _WORD_RE.fullmatch(words[0]):
            return words[0]
        return None

    def _no_subcommand(self, spec: CommandSpec, word: str) -> dict[str, Any]:
        p = self.core.prefix
        group = [spec, *self.subcommands(spec.name)]
        subs = {s.words[1] for s in group[1:] if not s.hidden}
        # Two-word aliases count too (`!reports list` is the README's name for `!reports`).
        for s in group:
            subs |= {a.split()[1] for a in s.aliases if not s.hidden and a.split()[:1] == [spec.name] and " " in a}
        names_sorted = sorted(subs)
        hint = ""
        match = process.extractOne(word.lower(), names_sorted, scorer=fuzz.ratio, score_cutoff=60)
        if match:
            hint = f" Did you mean `{p}{spec.name} {match[0]}`?"
        names = ", ".join(names_sorted)
        raise UsageError(f"There is no `{p}{spec.name} {word[:30]}`.{hint} Subcommands: {names}.")

    async def _run(self, spec: CommandSpec, incoming: Incoming, parse: Callable[[], dict[str, Any]]) -> Outcome:
        ctx = CommandContext(self.core, incoming, spec)

        async def call() -> Any:
            if spec.private_input and not incoming.place.is_direct:
                ctx.delete_trigger = True
                if incoming.message_id and incoming.surface == "prefix":
                    # Recorded before the command runs: if the bot dies before the adapter
                    # removes the message, the delete is retried when it connects again.
                    place = incoming.place
                    await self.core.pending_deletes.add(
                        place.platform, place.scope_id, place.id, incoming.message_id, self.core.now()
                    )
            if spec.moderator_only and not incoming.author.is_moderator:
                raise PermissionDenied(f"Sorry, `{self.core.prefix}{spec.name}` is for the forum's moderators.")
            if spec.cooldown and not incoming.author.is_moderator:
                uses, per = spec.cooldown
                key = (incoming.author.platform, incoming.author.id, spec.name)
                wait = self.cooldowns.hit(key, uses, per)
                if wait > 0:
                    raise CooldownActive(wait)
            kwargs = parse()
            return await spec.callback(ctx, **kwargs)

        outcome = await self._guard(ctx, spec.name, call)
        # A private command's message is removed even when it failed (e.g. a refused !report),
        # so the words are given back first, privately: a refusal never loses what was typed.
        outcome.delete_trigger = outcome.delete_trigger or ctx.delete_trigger
        typed_here = incoming.surface == "prefix" and bool(incoming.message_id)
        if outcome.status != "ok" and outcome.delete_trigger and typed_here:
            outcome.give_back = give_back_reply(incoming.text)
        return outcome

    async def _guard(
        self,
        ctx: CommandContext,
        name: str,
        call: Callable[[], Awaitable[Any]],
        *,
        label: Callable[[], str] | None = None,
    ) -> Outcome:
        """Run `call` with the one error handler, and count it for /metrics under `label()`
        (known only afterwards for a button) or `name`."""
        started = time.perf_counter()
        outcome = await self._guarded(ctx, name, call)
        self.core.metrics.command(label() if label else name, outcome.status, time.perf_counter() - started)
        return outcome

    async def _guarded(self, ctx: CommandContext, name: str, call: Callable[[], Awaitable[Any]]) -> Outcome:
        prefix = self.core.prefix
        try:
            result = await call()
        except UsageError as e:
            lines = [f"⚠️ {e.message}"]
            if ctx.spec is not None:
                lines.append(f"Usage: `{ctx.spec.usage(prefix)}` (more: `{prefix}help {ctx.spec.name}`)")
            return Outcome([Reply("\n".join(lines), ephemeral=True)], status="usage", command=name)
        except PermissionDenied as e:
            return Outcome([Reply(e.message, ephemeral=True)], status="denied", command=name)
        except CooldownActive as e:
            return Outcome([Reply(e.message, ephemeral=True)], status="cooldown", command=name)
        except UserError as e:
            return Outcome([Reply(e.message, ephemeral=True)], status="user_error", command=name)
        except Exception:
            ref = new_reference()
            # The message text is left out of the log on purpose: reports may name children.
            log.exception(
                "command failed ref=%s command=%s platform=%s place=%s",
                ref,
                name,
                ctx.incoming.place.platform,
                ctx.incoming.place.id,
            )
            return Outcome([failure_reply(ref)], status="error", error_ref=ref, command=name)
        return Outcome(
            as_replies(result), delete_trigger=ctx.delete_trigger, command=name, after_delivery=ctx.after_reply
        )
