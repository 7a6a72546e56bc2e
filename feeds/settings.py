"""`[feeds]`: the feeds cog's settings, and the subscriptions `make run` starts with.

They live here, in the platform-free pipeline, because feeds/service.py reads them and feeds
never import cogs; cogs/feeds/ exposes `FeedsSettings` as its `SETTINGS`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from bot.config import CogSettings, Section
from feeds import schedule
from storage.feeds import Timing


class SubscriptionConfig(Section):
    url: Annotated[str, Field(pattern=r"^https?://")]
    name: str | None = None
    platform: Literal["console", "discord", "slack"] = "console"
    scope: str = "console"
    channel: Annotated[str, Field(min_length=1)]
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    interval_minutes: Annotated[int, Field(ge=2, le=1440)] | None = None
    latest: Annotated[int, Field(ge=0, le=20)] = 0
    mention_role: str | None = None
    # How the channel is posted to (feeds/schedule.py): every item as it comes, or a digest
    # at `digest_at` (local time) every day or every week on `digest_day`; and quiet hours.
    mode: Literal["each", "digest"] = "each"
    digest_at: str = "18:00"
    digest_every: Literal["day", "week"] = "day"
    digest_day: str = "monday"
    quiet_hours: str | None = None

    @field_validator("digest_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        return f"{schedule.parse_clock(value, 'digest_at'):%H:%M}"

    @field_validator("digest_day")
    @classmethod
    def _day(cls, value: str) -> str:
        return schedule.DAYS[schedule.parse_day(value)]

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        quiet = schedule.parse_quiet_hours(value)
        return str(quiet) if quiet else None

    def timing(self) -> Timing:
        return Timing(
            self.mode, self.digest_at, self.digest_every, schedule.parse_day(self.digest_day), self.quiet_hours
        )


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
        "latest": 0,
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
        "latest": 0,
    },
]


class FeedsSettings(CogSettings):
    section_name = "feeds"
    without_file: ClassVar[dict[str, Any]] = {"subscriptions": DEFAULT_SUBSCRIPTIONS}

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
    subscriptions: list[SubscriptionConfig] = Field(default_factory=list)
