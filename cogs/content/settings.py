"""`[content]`: where the words come from. One section shared by the cogs that read the
content files (rights, timeline and changes each expose it as their `SETTINGS`)."""

from __future__ import annotations

from bot.config import CogSettings


class ContentSettings(CogSettings):
    section_name = "content"

    # A folder holding rights.toml, timeline.toml and reform.toml to use instead of the
    # built-in content (empty: the files shipped in cogs/content/).
    directory: str = ""
