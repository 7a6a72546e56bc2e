"""Platform-free cogs. Each module here exposes `setup(core) -> Cog`."""

# Loaded in this order; `!help` lists commands alphabetically regardless.
COG_MODULES: list[str] = [
    "cogs.help",
    "cogs.rights",
    "cogs.timeline",
    "cogs.changes",
    "cogs.reports",
    "cogs.feeds",
]
