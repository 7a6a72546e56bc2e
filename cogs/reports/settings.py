"""`[reports]`: the reports cog's settings (see config.example.toml)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.config import CogSettings, Section


class ModeratorChannel(Section):
    platform: Literal["console", "discord", "slack"]
    scope: str
    channel: Annotated[str, Field(min_length=1)]


class ReportsSettings(CogSettings):
    section_name = "reports"

    max_length: Annotated[int, Field(ge=50, le=10_000)] = 2000
    per_user_per_day: Annotated[int, Field(ge=1, le=1000)] = 5
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 180
    show_reporter_to_moderators: bool = False
    moderator_channels: list[ModeratorChannel] = Field(default_factory=list)
