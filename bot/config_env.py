"""The environment's part of the configuration: every key as `SENDBOT_<SECTION>__<KEY>`, the
secrets also as DISCORD_TOKEN and the like, or read from the file DISCORD_TOKEN_FILE names.

Split from config.py (issue 12): this changes with how deployments (Docker, systemd) hand values
in, not with what the config holds. It imports nothing from bot.config (which imports it), so
problems come back as (variable, message) pairs for config.py to report.
"""

from __future__ import annotations

import json
import os
import tomllib
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr

# Environment variables that may supply secrets instead of the file (they take precedence).
SECRET_ENV = {
    ("discord", "token"): "DISCORD_TOKEN",
    ("slack", "bot_token"): "SLACK_BOT_TOKEN",
    ("slack", "app_token"): "SLACK_APP_TOKEN",
    ("slack", "signing_secret"): "SLACK_SIGNING_SECRET",
    ("slack", "client_secret"): "SLACK_CLIENT_SECRET",
    # libpq's own variable, so one setting serves sendbot, psql and pg_dump alike.
    ("storage", "password"): "PGPASSWORD",
}


ENV_PREFIX = "SENDBOT_"
ENV_NESTING = "__"


@dataclass(frozen=True)
class EnvOverride:
    """`SENDBOT_FEEDS__INTERVAL_MINUTES=15`: the key's path, the variable, its text."""

    path: tuple[str, ...]
    var: str
    text: str


def env_overrides(env: dict[str, str] | os._Environ[str]) -> list[EnvOverride]:
    """Every `SENDBOT_<SECTION>__<KEY>` variable (`__` nests deeper), sorted by name. Variables
    without `__` (SENDBOT_CONFIG, SENDBOT_LOG_LEVEL) are not configuration keys."""
    found = []
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or ENV_NESTING not in var:
            continue
        parts = tuple(p.lower() for p in var[len(ENV_PREFIX) :].split(ENV_NESTING))
        if all(parts):
            found.append(EnvOverride(parts, var, env[var]))
    return found


def env_value(text: str) -> Any:
    """A variable's text as a TOML value (`15`, `true`, `["a", "b"]`, `"quoted"`), else as
    JSON (`{"url": ...}`), else as the text itself (`/data/sendbot.sqlite3`)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, KeyError):
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def wants_text(root: type[BaseModel], path: tuple[str, ...]) -> bool:
    """The key at `path` takes only text (a str, a secret, a choice of words): its variable is
    used as written, so `SENDBOT_SLACK__MODERATOR_USERGROUP=123` stays the text "123"."""
    model: type[BaseModel] | None = root
    annotation: Any = None
    for part in path:
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return False
        annotation = field.annotation
        model = model_in(annotation)
    kinds = _leaf_types(annotation)
    return bool(kinds) and kinds <= {str, SecretStr, type(None)}


def _leaf_types(annotation: Any) -> set[Any]:
    """The plain types a field's annotation allows (`Annotated[int, ...] | None` -> int, None)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _leaf_types(get_args(annotation)[0])
    if origin is Literal:
        return {type(a) for a in get_args(annotation)}
    if origin in (Union, types.UnionType):
        return set().union(*(_leaf_types(a) for a in get_args(annotation)))
    if origin is not None:
        return {origin}
    return {type(None) if annotation is None else annotation}


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    where = data
    for part in path[:-1]:
        nxt = where.get(part)
        nxt = dict(nxt) if isinstance(nxt, dict) else {}
        where[part] = nxt
        where = nxt
    where[path[-1]] = value


def secret_files(
    env: dict[str, str] | os._Environ[str], data: dict[str, Any]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """`DISCORD_TOKEN_FILE=/run/secrets/discord_token`: the secret read from a file (Docker and
    systemd credentials). Returns the dotted keys they set, by variable, and any problems as (variable, message)."""
    used: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for (section, key), var in SECRET_ENV.items():
        file_var = f"{var}_FILE"
        path = env.get(file_var)
        if not path:
            continue
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or str(e)
            problems.append((file_var, f"cannot read {path} ({why})"))
            continue
        if not value:
            problems.append((file_var, f"{path} is empty"))
            continue
        set_path(data, (section, key), value)
        used[f"{section}.{key}"] = file_var
    return used, problems


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The section model inside a field's type (`X`, `list[X]`, `X | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


@dataclass
class FromEnv:
    """The file's data with the environment laid over it, and where each value came from."""

    data: dict[str, Any]
    overrides: list[EnvOverride]
    keys: dict[str, str]  # dotted key -> the variable that set it
    file_problems: list[tuple[str, str]]


def overlay(data: dict[str, Any], env: dict[str, str] | os._Environ[str]) -> FromEnv:
    """Lay the environment over the file's data (a copy; the file's dict is not changed)."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    overrides = env_overrides(env)
    for o in overrides:
        set_path(data, o.path, env_value(o.text))
    from_env = {".".join(o.path): o.var for o in overrides}
    for (section, key), var in SECRET_ENV.items():
        if env.get(var):
            sec = data.setdefault(section, {})
            if isinstance(sec, dict):
                sec[key] = env[var]
                from_env[f"{section}.{key}"] = var
    file_keys, file_problems = secret_files(env, data)
    from_env.update(file_keys)
    return FromEnv(data, overrides, from_env, file_problems)


def keep_text(root: type[BaseModel], data: dict[str, Any], overrides: list[EnvOverride]) -> None:
    """Once the config model is known: a key that takes only text gets its variable as written."""
    for o in overrides:
        if wants_text(root, o.path):
            set_path(data, o.path, o.text)
