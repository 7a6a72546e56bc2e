"""Configuration: a TOML file validated by pydantic, secrets optionally from the environment.

Every key is documented in config.example.toml. Unknown keys are errors (a typo in a key
would otherwise silently do nothing), and each problem is reported with its dotted key.

The core's own sections are defined here (bot, logging, storage, ops, console, discord,
slack). A cog brings its own section: its package exposes
`SETTINGS`, a `CogSettings` subclass naming its `[section]`, and the sections of the cogs
`[bot] cogs` lists are validated with the core's, with the same errors. A cog reads its
settings typed with `config.section(TheSettings)`. The environment's overrides
(`SENDBOT_<SECTION>__<KEY>`, `*_FILE` secrets) are in config_env.py, the wording of
problems in config_problems.py.
"""

from __future__ import annotations

import functools
import importlib
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

# The environment's overrides live in config_env.py; the names it once held here are
# re-exported (`as` marks them so) and `from bot.config import env_value` keeps working.
from bot.config_env import ENV_NESTING as ENV_NESTING
from bot.config_env import ENV_PREFIX as ENV_PREFIX
from bot.config_env import SECRET_ENV as SECRET_ENV
from bot.config_env import EnvOverride as EnvOverride
from bot.config_env import env_overrides as env_overrides
from bot.config_env import env_value as env_value
from bot.config_env import keep_text, overlay

# Re-exported: these lived here before the wording of problems moved (issue 12).
from bot.config_problems import ConfigError as ConfigError
from bot.config_problems import Problem as Problem
from bot.config_problems import named_by_env, problems_of
from storage.open import url_problem

DEFAULT_PATH = "config.toml"
ENV_PATH = "SENDBOT_CONFIG"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class CogSettings(Section):
    """A cog's own `[section]` of the config file. Subclass it in the cog's package, set
    `section_name`, and expose the class as `SETTINGS` in the package's `__init__.py`:

        class WeatherSettings(CogSettings):
            section_name = "weather"
            city: str = "Leeds"

    Give every key a default, so the section may be left out (a key without one makes the
    section required). Several cogs may expose the same class: they then share one section.
    """

    # The table's name in the file: `[weather]`, and `weather.city` in error messages.
    section_name: ClassVar[str]
    # The section's values when sendbot runs with no config file at all (`make run` out of
    # the box); a config file replaces them.
    without_file: ClassVar[dict[str, Any]] = {}


S = TypeVar("S", bound=CogSettings)


# The cogs `sendbot run` loads, in this order (`!help` lists commands alphabetically anyway).
# `[bot] cogs` replaces the list: leave one out to disable it, or add a third-party cog
# package by its module name (it must expose `setup(core)`).
DEFAULT_COGS: tuple[str, ...] = (
    "cogs.help",
    "cogs.rights",
    "cogs.timeline",
    "cogs.changes",
    "cogs.reports",
    "cogs.feeds",
    "cogs.settings",
)


CogList = Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")]], Field(min_length=1)]


class BotSection(Section):
    prefix: Annotated[str, Field(min_length=1, max_length=3)] = "!"
    reply_to_unknown: bool = True
    timezone: str = "Europe/London"
    cogs: CogList = list(DEFAULT_COGS)

    @field_validator("prefix")
    @classmethod
    def _no_space(cls, v: str) -> str:
        if any(c.isspace() or c.isalnum() for c in v):
            raise ValueError("the prefix must be punctuation such as ! or ?")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use a name such as Europe/London)") from None
        return v


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "text": one readable line per event; "json": one JSON object per line.
    format: Literal["text", "json"] = "text"
    # The interactive console (a terminal, no platform) logs here and shows only warnings.
    console_file: str = "data/console.log"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class StorageSection(Section):
    # SQLite, the embedded default: one file, one bot instance.
    path: str = "data/sendbot.sqlite3"
    # PostgreSQL instead, for several instances sharing one database (docs/scaling.md):
    # "postgresql://user@host:5432/dbname". The password comes from the environment
    # (PGPASSWORD or PGPASSWORD_FILE, or SENDBOT_STORAGE__PASSWORD), never from the url.
    url: str | None = None
    password: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        problem = url_problem(v.strip())
        if problem:
            raise ValueError(problem)
        return v.strip()

    def password_text(self) -> str | None:
        return self.password.get_secret_value() if self.password else None


class ConsoleSection(Section):
    channel: Annotated[str, Field(min_length=1, max_length=80)] = "general"
    user: Annotated[str, Field(min_length=1, max_length=80)] = "you"
    attachments_dir: str = "data/attachments"


class DiscordSection(Section):
    token: SecretStr | None = None
    api_base_url: Annotated[str, Field(pattern=r"^https?://")] = "https://discord.com/api/v10"
    gateway_url: Annotated[str, Field(pattern=r"^wss?://")] = "wss://gateway.discord.gg/"
    guild_ids: list[int] = []
    moderator_roles: list[str] = []
    message_content: bool = True
    # Discord's global limit for the bot token (50 for almost every bot); the bot's own posts
    # are paced a little under it.
    requests_per_second: Annotated[float, Field(gt=0, le=10000)] = 50.0
    # Several instances on one bot token (issue 15): pace them together through the database
    # (the `rate_budget` table) rather than each on its own.
    shared_rate_budget: bool = False
    # Discord shards (discord.py's sharded client): with shard_count = N, each instance runs
    # the shards in shard_ids (all of them when empty), so N gateway connections are split.
    shard_count: Annotated[int, Field(ge=1, le=10000)] | None = None
    shard_ids: list[Annotated[int, Field(ge=0)]] = []

    @field_validator("shard_ids")
    @classmethod
    def _shards(cls, v: list[int], info: ValidationInfo) -> list[int]:
        count = info.data.get("shard_count")
        if v and count is None:
            raise ValueError("needs shard_count too (how many shards there are in all)")
        if len(set(v)) != len(v):
            raise ValueError("each shard may be listed only once")
        if count is not None and any(i >= count for i in v):
            raise ValueError(f"shards are numbered 0 to {count - 1} (shard_count is {count})")
        return v


class SlackSection(Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    mode: Literal["socket", "http"] = "socket"
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 3000
    http_path: Annotated[str, Field(pattern=r"^/")] = "/slack/events"
    api_base_url: Annotated[str, Field(pattern=r"^https?://")] = "https://slack.com/api/"
    moderator_user_ids: list[str] = []
    moderator_usergroup: str | None = None
    # The bot's own posts across the whole workspace, per second (each channel also gets at
    # most about one a second). Slack allows "several hundred messages per minute".
    workspace_posts_per_second: Annotated[float, Field(gt=0, le=100)] = 5.0
    # Several instances on one workspace (issue 15): pace them together through the database.
    shared_rate_budget: bool = False
    # Several workspaces (HTTP mode only): the app's OAuth client id and secret. Each
    # workspace installs the bot at http_host:http_port + install_path, and its bot token is
    # kept in the bot's database (slack_installations) instead of bot_token.
    client_id: str | None = None
    client_secret: SecretStr | None = None
    install_path: Annotated[str, Field(pattern=r"^/")] = "/slack/install"
    redirect_path: Annotated[str, Field(pattern=r"^/")] = "/slack/oauth_redirect"

    @property
    def oauth(self) -> bool:
        """Installed per workspace through OAuth, rather than with one bot token."""
        return bool(self.client_id and self.client_secret and self.client_secret.get_secret_value())


class OpsSection(Section):
    # /healthz and /metrics for a supervisor and Prometheus: off unless a port is given
    # (0 picks a free one, logged at start). Loopback by default: nothing is exposed.
    http_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    http_host: str = "127.0.0.1"
    # /healthz turns unhealthy when no feed poll cycle has completed for this long.
    poll_stale_minutes: Annotated[int, Field(ge=5, le=10080)] = 60


class Config(Section):
    bot: BotSection = BotSection()
    logging: LoggingSection = LoggingSection()
    storage: StorageSection = StorageSection()
    ops: OpsSection = OpsSection()
    console: ConsoleSection = ConsoleSection()
    discord: DiscordSection = DiscordSection()
    slack: SlackSection = SlackSection()

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord.token and self.discord.token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack.bot_token and self.slack.bot_token.get_secret_value()) or self.slack.oauth

    def section(self, model: type[S]) -> S:
        """A cog's settings, typed: `config.section(WeatherSettings)`. A cog that `[bot] cogs`
        does not list had no section validated (a config built by `parse` refuses one), so it
        gets the defaults, as does a section left out of the file."""
        value = getattr(self, model.section_name, None)
        if value is None:
            return model()
        if not isinstance(value, model):
            raise TypeError(f"[{model.section_name}] holds {type(value).__name__}, not {model.__name__}")
        return value


def resolve_path(explicit: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """--config, else $SENDBOT_CONFIG, else ./config.toml if present, else no file."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_PATH):
        return Path(env[ENV_PATH])
    default = Path(DEFAULT_PATH)
    return default if default.exists() else None


@dataclass
class CogSections:
    """The settings models of some cogs: which model each section has, and which cogs own it."""

    models: dict[str, type[CogSettings]] = field(default_factory=dict)
    owners: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def cog_sections(names: Iterable[str]) -> CogSections:
    """Import each cog package and collect its `SETTINGS`. A name that is not a cog, or a
    model that cannot be a section, is a problem at `bot.cogs` (so `sendbot check` names it)."""
    found = CogSections()
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            found.problems.append(Problem("bot.cogs", f"cannot load {name!r} ({e})"))
            continue
        if not callable(getattr(module, "setup", None)):
            found.problems.append(Problem("bot.cogs", f"{name!r} has no setup(core) function"))
            continue
        model = getattr(module, "SETTINGS", None)
        if model is None:
            continue
        section = getattr(model, "section_name", None)
        if not (isinstance(model, type) and issubclass(model, CogSettings)) or not isinstance(section, str):
            found.problems.append(
                Problem("bot.cogs", f"{name!r}: SETTINGS must be a bot.config.CogSettings class with a section_name")
            )
            continue
        other = found.models.get(section)
        if section in Config.model_fields:
            found.problems.append(Problem("bot.cogs", f"{name!r}: [{section}] is a core section"))
        elif not section.isidentifier() or section.startswith(("_", "model_")) or hasattr(Config, section):
            # It becomes a field of the config model: it must not hide one of the model's names.
            found.problems.append(Problem("bot.cogs", f"{name!r}: [{section}] is not a usable section name"))
        elif other is not None and other is not model:
            first = found.owners[section][0]
            found.problems.append(Problem("bot.cogs", f"{name!r} and {first!r} both define a [{section}] section"))
        else:
            found.models[section] = model
            found.owners.setdefault(section, []).append(name)
    return found


@functools.cache
def _shipped() -> CogSections:
    """The sections of the cogs that ship with sendbot, to explain a section whose cog is not loaded."""
    return cog_sections(DEFAULT_COGS)


_COG_LIST: TypeAdapter[list[str]] = TypeAdapter(CogList)


def _listed_cogs(data: dict[str, Any]) -> list[str] | None:
    """`[bot] cogs` from the raw file, or None when it is itself invalid (reported as such)."""
    bot = data.get("bot", {})
    if not isinstance(bot, dict):
        return None
    try:
        return _COG_LIST.validate_python(bot.get("cogs", list(DEFAULT_COGS)))
    except ValidationError:
        return None


@functools.cache
def _config_model(sections: tuple[tuple[str, type[CogSettings]], ...]) -> type[Config]:
    """`Config` with one field per cog section, so pydantic validates the whole file in one pass
    and every problem has its dotted key. Cached: the same cogs give the same class."""
    if not sections:
        return Config
    fields: dict[str, Any] = {}
    for name, model in sections:
        # A section with a required key is itself required (reported as `name: Field required`).
        required = any(f.is_required() for f in model.model_fields.values())
        fields[name] = (model, ...) if required else (model, Field(default_factory=model))
    return create_model("Config", __base__=Config, **fields)


def parse(data: dict, environ: dict[str, str] | None = None, source: str = "config") -> Config:
    """Validate the core's sections and those of the cogs `[bot] cogs` lists (importing each
    cog package to find its `SETTINGS`); raises ConfigError listing every problem.

    The environment overrides the file: every key as `SENDBOT_<SECTION>__<KEY>` (a value
    read as TOML, else JSON, else as written), the secrets also as DISCORD_TOKEN and the like,
    or read from a file named by DISCORD_TOKEN_FILE and the like. A problem with a value from
    the environment is named by its variable."""
    env = os.environ if environ is None else environ
    laid = overlay(data, env)
    data, from_env = laid.data, laid.keys
    file_problems = [Problem(var, message) for var, message in laid.file_problems]
    names = _listed_cogs(data)
    found = cog_sections(names) if names is not None else CogSections()
    root = _config_model(tuple(sorted(found.models.items())))
    keep_text(root, data, laid.overrides)
    if names is None or found.problems:
        # Until every listed cog loads, which sections belong cannot be judged: report the
        # cogs first rather than call a loadable cog's section unknown.
        data = {k: v for k, v in data.items() if k in root.model_fields}
    problems = list(found.problems) + file_problems
    try:
        config = root.model_validate(data)
    except ValidationError as e:
        problems += [named_by_env(p, from_env) for p in problems_of(e, root, lambda s: _shipped().owners.get(s))]
    if problems:
        raise ConfigError(source, problems)
    return config


def load(path: Path | None, environ: dict[str, str] | None = None) -> Config:
    """Load and validate; raises ConfigError listing every problem."""
    if path is None:
        # No file: the shipped cogs' own out-of-the-box values (their `without_file`).
        shipped = _shipped().models.items()
        return parse({name: dict(m.without_file) for name, m in shipped if m.without_file}, environ, "defaults")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), [Problem("(file)", "no such file")]) from None
    except OSError as e:
        raise ConfigError(str(path), [Problem("(file)", e.strerror or str(e))]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), [Problem("(file)", "not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), [Problem("(syntax)", str(e))]) from None
    return parse(data, environ, str(path))
