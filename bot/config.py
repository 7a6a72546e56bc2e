"""Configuration: a TOML file validated by pydantic, secrets optionally from the environment.

Every key is documented in config.example.toml. Unknown keys are errors (a typo in a key
would otherwise silently do nothing), and each problem is reported with its dotted key.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_PATH = "config.toml"
ENV_PATH = "SENDBOT_CONFIG"

# Environment variables that may supply secrets instead of the file (they take precedence).
SECRET_ENV = {
    ("discord", "token"): "DISCORD_TOKEN",
    ("slack", "bot_token"): "SLACK_BOT_TOKEN",
    ("slack", "app_token"): "SLACK_APP_TOKEN",
    ("slack", "signing_secret"): "SLACK_SIGNING_SECRET",
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


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
)


class BotSection(Section):
    prefix: Annotated[str, Field(min_length=1, max_length=3)] = "!"
    reply_to_unknown: bool = True
    timezone: str = "Europe/London"
    cogs: Annotated[
        list[Annotated[str, Field(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")]], Field(min_length=1)
    ] = list(DEFAULT_COGS)

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

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class StorageSection(Section):
    path: str = "data/sendbot.sqlite3"


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


class SubscriptionConfig(Section):
    url: Annotated[str, Field(pattern=r"^https?://")]
    name: str | None = None
    platform: Literal["console", "discord", "slack"] = "console"
    scope: str = "console"
    channel: Annotated[str, Field(min_length=1)]
    include: list[str] = []
    exclude: list[str] = []
    interval_minutes: Annotated[int, Field(ge=2, le=1440)] | None = None
    latest: Annotated[int, Field(ge=0, le=20)] = 0
    mention_role: str | None = None


class FeedsSection(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, Field(ge=2, le=1440)] = 10
    allow_private_addresses: bool = False
    max_body_bytes: Annotated[int, Field(ge=1024)] = 5 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=10)] = 5
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10
    total_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30
    max_concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    max_per_host: Annotated[int, Field(ge=1, le=64)] = 2
    pause_after_hours: Annotated[float, Field(gt=0)] = 24
    summary_chars: Annotated[int, Field(ge=50, le=4000)] = 600
    user_agent: str = "sendbot/0.1 (+https://github.com/; parent carer forum bot)"
    subscriptions: list[SubscriptionConfig] = []


# What `sendbot run` subscribes to when no config file is used at all, so that `make run`
# shows feed posts in the console out of the box. Kept identical to config.example.toml
# (a test checks); a config FILE without [[feeds.subscriptions]] subscribes to nothing.
DEFAULT_SUBSCRIPTIONS: list[dict[str, object]] = [
    {
        "url": "https://www.specialneedsjungle.com/feed/",
        "name": "Special Needs Jungle",
        "platform": "console",
        "scope": "console",
        "channel": "general",
        "latest": 3,
    },
    {
        "url": "https://www.gov.uk/government/organisations/department-for-education.atom",
        "name": "GOV.UK: Department for Education",
        "platform": "console",
        "scope": "console",
        "channel": "general",
        "include": [
            "SEND",
            "special educational",
            "EHC",
            "alternative provision",
            "high needs",
            "disabled",
            "disability",
        ],
        "exclude": [],
        "latest": 3,
    },
]


class ModeratorChannel(Section):
    platform: Literal["console", "discord", "slack"]
    scope: str
    channel: Annotated[str, Field(min_length=1)]


class ReportsSection(Section):
    max_length: Annotated[int, Field(ge=50, le=10_000)] = 2000
    per_user_per_day: Annotated[int, Field(ge=1, le=1000)] = 5
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 180
    show_reporter_to_moderators: bool = False
    moderator_channels: list[ModeratorChannel] = []


class ContentSection(Section):
    # A folder holding rights.toml, timeline.toml and reform.toml to use instead of the
    # built-in content (empty: the files shipped in cogs/content/).
    directory: str = ""


class Config(Section):
    bot: BotSection = BotSection()
    logging: LoggingSection = LoggingSection()
    storage: StorageSection = StorageSection()
    console: ConsoleSection = ConsoleSection()
    discord: DiscordSection = DiscordSection()
    slack: SlackSection = SlackSection()
    feeds: FeedsSection = FeedsSection()
    reports: ReportsSection = ReportsSection()
    content: ContentSection = ContentSection()

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord.token and self.discord.token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack.bot_token and self.slack.bot_token.get_secret_value())


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


def resolve_path(explicit: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """--config, else $SENDBOT_CONFIG, else ./config.toml if present, else no file."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_PATH):
        return Path(env[ENV_PATH])
    default = Path(DEFAULT_PATH)
    return default if default.exists() else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The section model inside a field's type (`X`, `list[X]`, `X | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where a config error points (for 'did you mean')."""
    model: type[BaseModel] | None = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part)) if model is not None else None
        model = _model_in(field.annotation) if field is not None else None
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()] if model is not None else []


def _problems(err: ValidationError) -> list[Problem]:
    out = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(e["loc"][-1]), _known_keys(e["loc"][:-1]), n=1, cutoff=0.7)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"unknown key{hint} (check the spelling against config.example.toml)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append(Problem(key, msg))
    return out


def parse(data: dict, environ: dict[str, str] | None = None, source: str = "config") -> Config:
    env = os.environ if environ is None else environ
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for (section, key), var in SECRET_ENV.items():
        if env.get(var):
            sec = data.setdefault(section, {})
            if isinstance(sec, dict):
                sec[key] = env[var]
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(source, _problems(e)) from None


def load(path: Path | None, environ: dict[str, str] | None = None) -> Config:
    """Load and validate; raises ConfigError listing every problem."""
    if path is None:
        return parse({"feeds": {"subscriptions": DEFAULT_SUBSCRIPTIONS}}, environ, "defaults")
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
