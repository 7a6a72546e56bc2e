"""Command specs: declared with a decorator on a cog method, parsed from text or given typed.

A spec is platform-free. Each adapter turns specs into its own surface (prefix commands,
Discord slash commands with options, Slack slash commands), and every surface ends in
`CommandSpec.convert`, so typing and error messages are the same everywhere.

Signature rules for a command method `async def name(self, ctx, a: int, b: str = "", *, opt: str = "")`:
- positional parameters after `ctx` are arguments in order; a default makes one optional;
- a parameter annotated `Rest` takes the remaining text verbatim (free text such as a report);
- keyword-only parameters are `key=value` options that may appear anywhere in the text;
- types: str, int, bool, `Literal[...]` choices, and `Rest`.

`autocomplete={"topic": "complete_topic"}` names a cog method
`async def complete_topic(self, partial: str) -> list[tuple[str, str]]` returning (label, value)
pairs; adapters with autocomplete (Discord slash options) call it.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from bot.errors import UsageError


class Rest(str):
    """Marker type: the parameter receives the rest of the command text."""


_MISSING = inspect.Parameter.empty

CommandCallback = Callable[..., Awaitable[Any]]


ArgKind = Literal["str", "int", "bool", "choice", "rest"]


Completer = Callable[[str], Awaitable[list[tuple[str, str]]]]


@dataclass(frozen=True)
class ArgSpec:
    name: str
    kind: ArgKind
    required: bool
    default: Any
    help: str = ""
    choices: tuple[str, ...] = ()
    option: bool = False  # keyword-only: given as key=value
    autocomplete: str | None = None  # name of a cog method (partial: str) -> list[(label, value)]
    # That method, bound to the cog, once the cog registers its commands (Cog.commands()).
    complete: Completer | None = field(default=None, compare=False, repr=False)

    @property
    def display(self) -> str:
        if self.option:
            return f"[{self.name}=…]"
        label = f"{self.name}…" if self.kind == "rest" else self.name
        if self.kind == "choice":
            label = "|".join(self.choices)
        return f"<{label}>" if self.required else f"[{label}]"


@dataclass
class CommandSpec:
    """One command. `name` may have two words ("feeds add") for a subcommand."""

    name: str
    help: str
    callback: CommandCallback
    aliases: tuple[str, ...] = ()
    args: tuple[ArgSpec, ...] = ()
    moderator_only: bool = False
    cooldown: tuple[int, float] | None = None  # (uses, per seconds) per user
    hidden: bool = False
    examples: tuple[str, ...] = ()
    # The command's text is private (e.g. !report): in a public place the adapter is asked to
    # remove the message whatever the outcome, even when it fails to parse.
    private_input: bool = False
    # The arguments as a parent reads them ("[step] [your date]"), when the generated
    # form ("[step] [when…]") would be developer notation.
    usage_text: str = ""
    # The command reads a file sent with it (Incoming.files), and this says what file: a
    # surface whose commands take typed options (Discord's slash commands) offers one for it.
    file_help: str = ""
    cog: Any = field(default=None, repr=False)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split())

    @property
    def parent(self) -> str | None:
        return self.words[0] if len(self.words) > 1 else None

    def usage(self, prefix: str = "!") -> str:
        if self.usage_text:
            return f"{prefix}{self.name} {self.usage_text}"
        parts = [f"{prefix}{self.name}"] + [a.display for a in self.args]
        return " ".join(parts)

    # -- parsing ---------------------------------------------------------------------

    def parse(self, text: str) -> dict[str, Any]:
        """Parse argument text (after the command name) into converted values."""
        tokens = tokenize(text)
        options = {a.name: a for a in self.args if a.option}
        raw: dict[str, str] = {}
        positional: list[Token] = []
        at = 0
        while at < len(tokens):
            tok = tokens[at]
            at += 1
            m = _OPTION_RE.match(tok.value) if not tok.quoted else None
            if m and m.group(1).lower() in options:
                key = m.group(1).lower()
                if key in raw:
                    raise UsageError(f"`{key}=` was given twice.")
                value, taken = _range_value(m.group(2), tokens[at:])
                raw[key] = value
                at += taken
            else:
                positional.append(tok)
        pos_specs = [a for a in self.args if not a.option]
        i = 0
        for spec in pos_specs:
            if spec.kind == "rest":
                rest = positional[i:]
                if rest:
                    raw[spec.name] = _rejoin(text, rest)
                i = len(positional)
                break
            if i < len(positional):
                raw[spec.name] = positional[i].value
                i += 1
        if i < len(positional):
            extra = " ".join(t.value for t in positional[i:])
            raise UsageError(f"I didn't expect `{clip(extra)}` here.")
        self._check_order(pos_specs, positional)
        return self.convert(raw)

    @staticmethod
    def _check_order(pos_specs: list[ArgSpec], positional: list[Token]) -> None:
        """`!timeline 5/1/2026 assessment`, `!reports tag must-wait 12`: the right words in the
        wrong order get "put X first" rather than a puzzling complaint about the first word."""
        for n, spec in enumerate(pos_specs[: len(positional)]):
            if spec.kind not in ("choice", "int"):
                continue
            try:
                _convert_value(spec, positional[n].value)
                continue
            except UsageError:
                pass
            for tok in positional[n + 1 :]:
                try:
                    _convert_value(spec, tok.value)
                except UsageError:
                    continue
                raise UsageError(f"Put `{clip(tok.value)}` ({spec.name}) first, before `{clip(positional[n].value)}`.")
            return

    def convert(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Check and convert raw string values (from text or a slash command's options)."""
        known = {a.name for a in self.args}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise UsageError(f"Unknown option `{unknown[0]}`.")
        out: dict[str, Any] = {}
        for spec in self.args:
            value = raw.get(spec.name)
            if value is None or (isinstance(value, str) and value.strip() == "" and spec.kind != "rest"):
                if spec.required:
                    what = f": {spec.help}" if spec.help else ""
                    raise UsageError(f"Missing `{spec.name}`{what}.")
                out[spec.name] = spec.default
                continue
            out[spec.name] = _convert_value(spec, value)
        return out


@dataclass(frozen=True)
class Token:
    value: str
    start: int
    end: int
    quoted: bool


_OPTION_RE = re.compile(r"^([A-Za-z][A-Za-z_-]*)=(.*)$", re.S)
_DASHES = ("-", "\u2013", "\u2014")  # hyphen, en dash, em dash (phones type the last two)


def _range_value(value: str, following: list[Token]) -> tuple[str, int]:
    """An option's value written as a range of times with spaces, as people type it:
    `quiet=21:00 - 07:00`, `quiet=9pm to 7am`, `quiet=21:00 -07:00`, `quiet=21:00- 07:00`.
    Returns the value joined with "-" and how many of the following tokens it took (0 when it
    is no range). Both ends must hold a digit, so words (`include=EHC to tribunal`) stay apart."""
    start = value.rstrip("".join(_DASHES))
    if not _has_digit(start):
        return value, 0
    nxt: list[str] = []  # the next two tokens, up to a quoted one (that is text, never a time)
    for tok in following[:2]:
        if tok.quoted:
            break
        nxt.append(tok.value)
    if start != value and nxt and _has_digit(nxt[0]) and not _OPTION_RE.match(nxt[0]):
        return f"{start}-{nxt[0]}", 1
    if len(nxt) == 2 and nxt[0].lower() in (*_DASHES, "to") and _has_digit(nxt[1]) and not _OPTION_RE.match(nxt[1]):
        return f"{value}-{nxt[1]}", 2
    if nxt and len(nxt[0]) > 1 and nxt[0].startswith(_DASHES) and nxt[0][1].isdigit():
        return f"{value}-{nxt[0][1:]}", 1
    return value, 0


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


_OPTION_KEY_RE = re.compile(r"[A-Za-z][A-Za-z_-]*=")


def tokenize(text: str) -> list[Token]:
    """Split on whitespace, honouring "double" and 'single' quotes and curly quotes.

    Chat apps turn straight quotes into curly ones, so both count. An unmatched quote is
    read literally rather than rejected: free text from parents often has a lone apostrophe.
    An option's value may be quoted too: `include="high needs,EHC"`.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    closers = {'"': '"', "“": "”", "'": "'", "‘": "’"}
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        ch = text[i]
        if ch in closers:
            close = text.find(closers[ch], i + 1)
            if close != -1 and (close + 1 == n or text[close + 1].isspace()):
                tokens.append(Token(text[i + 1 : close], start, close + 1, True))
                i = close + 1
                continue
        while i < n and not text[i].isspace():
            # key="two words": a quoted option value (the quote follows `key=` directly).
            if text[i] in closers and _OPTION_KEY_RE.fullmatch(text[start:i]):
                close = text.find(closers[text[i]], i + 1)
                if close != -1 and (close + 1 == n or text[close + 1].isspace()):
                    tokens.append(Token(text[start:i] + text[i + 1 : close], start, close + 1, False))
                    i = close + 1
                    break
            i += 1
        else:
            tokens.append(Token(text[start:i], start, i, False))
    return tokens


def _rejoin(text: str, tokens: list[Token]) -> str:
    """The original text covered by tokens, keeping its own spacing where contiguous."""
    contiguous = all(a.end <= b.start and text[a.end : b.start].strip() == "" for a, b in itertools.pairwise(tokens))
    if contiguous:
        return text[tokens[0].start : tokens[-1].end].strip()
    return " ".join(text[t.start : t.end] for t in tokens)


def clip(s: str, limit: int = 40) -> str:
    """A piece of what the user typed, safe to echo inside `code` in a usage message."""
    s = s.replace("`", "'")
    return s if len(s) <= limit else s[: limit - 1] + "…"


# The largest whole number a command takes: 15 digits. Every id, page and count fits well
# inside SQLite's 64-bit INTEGER (2**63 - 1) and a Discord slash option (2**53), so a huge
# number is a usage error here rather than an OverflowError in the database or a cog.
MAX_INT = 10**15 - 1
_INT_RE = re.compile(r"[+-]?(\d+)")


def to_int(value: Any, name: str) -> int:
    """A command's whole-number argument (`#12` is 12), or a one-line UsageError: not a
    number, or too large (beyond MAX_INT either way)."""
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        s = str(value).strip().lstrip("#")
        m = _INT_RE.fullmatch(s)
        if not m:
            raise UsageError(f"`{name}` should be a whole number, not `{clip(str(value))}`.")
        # Checked on the digits before int(): Python refuses to convert very long strings.
        if len(m.group(1).lstrip("0")) > len(str(MAX_INT)):
            raise _too_large(name, value)
        n = int(s)
    if abs(n) > MAX_INT:
        raise _too_large(name, value)
    return n


def _too_large(name: str, value: Any) -> UsageError:
    return UsageError(f"`{name}` is too large: `{clip(str(value), 24)}` (at most {len(str(MAX_INT))} digits).")


_TRUE = {"yes", "y", "true", "on", "1"}
_FALSE = {"no", "n", "false", "off", "0"}


def _convert_value(spec: ArgSpec, value: Any) -> Any:
    if spec.kind == "rest":
        return str(value).strip()
    if spec.kind == "str":
        return str(value)
    if spec.kind == "int":
        return to_int(value, spec.name)
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise UsageError(f"`{spec.name}` should be yes or no, not `{clip(str(value))}`.")
    if spec.kind == "choice":
        s = str(value).strip().lower()
        for choice in spec.choices:
            if s == choice.lower():
                return choice
        given = clip(str(value))
        if len(spec.choices) == 1:
            raise UsageError(f"Only the word `{spec.choices[0]}` works there, not `{given}`.")
        message = f"`{spec.name}` should be one of: {', '.join(spec.choices)} (not `{given}`)."
        close = difflib.get_close_matches(s, [c.lower() for c in spec.choices], n=1, cutoff=0.75)
        if close:
            message += f" Did you mean `{next(c for c in spec.choices if c.lower() == close[0])}`?"
        raise UsageError(message)
    raise AssertionError(f"unknown arg kind {spec.kind}")


def _kind_of(annotation: Any) -> tuple[ArgKind, tuple[str, ...]]:
    if annotation is Rest:
        return "rest", ()
    if annotation is int:
        return "int", ()
    if annotation is bool:
        return "bool", ()
    if get_origin(annotation) is Literal:
        return "choice", tuple(str(a) for a in get_args(annotation))
    if annotation in (str, _MISSING):
        return "str", ()
    # Optional[X] / X | None
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1:
        return _kind_of(args[0])
    raise TypeError(f"unsupported command parameter type {annotation!r}")


def command(
    name: str,
    *,
    help: str,
    aliases: tuple[str, ...] | list[str] = (),
    moderator_only: bool = False,
    cooldown: tuple[int, float] | None = None,
    hidden: bool = False,
    args_help: dict[str, str] | None = None,
    autocomplete: dict[str, str] | None = None,
    examples: tuple[str, ...] | list[str] = (),
    private_input: bool = False,
    usage: str = "",
    file_help: str = "",
) -> Callable[[CommandCallback], CommandCallback]:
    """Declare a cog method as a command. See the module docstring for signature rules."""

    def decorate(fn: CommandCallback) -> CommandCallback:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"command {name!r} must be an async method")
        hints = typing.get_type_hints(fn)
        params = list(inspect.signature(fn).parameters.values())[2:]  # skip self, ctx
        specs: list[ArgSpec] = []
        for p in params:
            kind, choices = _kind_of(hints.get(p.name, str))
            required = p.default is _MISSING
            specs.append(
                ArgSpec(
                    name=p.name,
                    kind=kind,
                    required=required,
                    default=None if required else p.default,
                    help=(args_help or {}).get(p.name, ""),
                    choices=choices,
                    option=p.kind is inspect.Parameter.KEYWORD_ONLY,
                    autocomplete=(autocomplete or {}).get(p.name),
                )
            )
        fn.__command_spec__ = CommandSpec(  # type: ignore[attr-defined]
            name=" ".join(name.lower().split()),
            help=help,
            callback=fn,
            aliases=tuple(" ".join(a.lower().split()) for a in aliases),
            args=tuple(specs),
            moderator_only=moderator_only,
            cooldown=cooldown,
            hidden=hidden,
            examples=tuple(examples),
            private_input=private_input,
            usage_text=usage,
            file_help=file_help,
        )
        return fn

    return decorate
