"""Platform-free cogs. Each module here exposes `setup(core) -> Cog`; which ones run is
`[bot] cogs` in the config (bot.config.DEFAULT_COGS by default)."""
