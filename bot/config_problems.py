"""How a config's problems are worded: each at its dotted key, an unknown key with a "did you
mean", a section whose cog is not loaded explained, a value from the environment named by its
variable.

Split from config.py (issue 12): this changes with what operators are told, not with what the
config holds. It imports nothing from bot.config (which imports it).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.config_env import model_in


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


def known_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where a config error points (for 'did you mean')."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part)) if model is not None else None
        model = model_in(field.annotation) if field is not None else None
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()] if model is not None else []


def not_loaded(section: str, owners_of: Callable[[str], list[str] | None]) -> str | None:
    """Why `[section]` is refused when it belongs to a shipped cog `[bot] cogs` leaves out."""
    owners = owners_of(section)
    if not owners:
        return None
    if len(owners) == 1:
        return (
            f"this section configures the cog {owners[0]!r}, which [bot] cogs does not load: "
            f"add {owners[0]!r} to [bot] cogs, or delete this section"
        )
    named = ", ".join(repr(o) for o in owners)
    return (
        f"this section configures the cogs {named}, none of which [bot] cogs loads: "
        "add one to [bot] cogs, or delete this section"
    )


def problems_of(
    err: ValidationError, root: type[BaseModel], owners_of: Callable[[str], list[str] | None]
) -> list[Problem]:
    """Each of pydantic's errors as a Problem at its dotted key, in words for the operator;
    `owners_of(section)`: the shipped cogs a section belongs to (looked up only when needed)."""
    out = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        top = len(e["loc"]) == 1
        if e["type"] == "extra_forbidden" and top and (why := not_loaded(str(e["loc"][0]), owners_of)):
            msg = why
        elif e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(e["loc"][-1]), known_keys(root, e["loc"][:-1]), n=1, cutoff=0.7)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            where = "; a cog's section also needs the cog in [bot] cogs" if top else ""
            msg = f"unknown key{hint} (check the spelling against config.example.toml{where})"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append(Problem(key, msg))
    return out


def named_by_env(problem: Problem, from_env: dict[str, str]) -> Problem:
    """A problem with a value the environment gave is named by that variable."""
    key = problem.key
    while key:
        if key in from_env:
            return Problem(f"{from_env[key]} ({problem.key})", problem.message)
        key = key.rpartition(".")[0]
    # An unknown section or key: the variable that brought it.
    below = [var for k, var in from_env.items() if k.startswith(problem.key + ".")]
    if len(below) == 1:
        return Problem(f"{below[0]} ({problem.key})", problem.message)
    return problem
