"""Data files: rights.toml, timeline.toml and reform.toml (see docs/content.md)."""
