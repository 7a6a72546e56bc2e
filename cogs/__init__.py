"""Platform-free cogs. Each package here exposes `setup(core) -> Cog`, and optionally `SETTINGS`
(its config section, a `bot.config.CogSettings`), `check` and `register_cli`; which ones run is
`[bot] cogs` in the config (bot.config.DEFAULT_COGS by default)."""
