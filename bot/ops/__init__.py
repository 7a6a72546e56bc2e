"""Running sendbot for real: backups and restores, health and metrics, `sendbot status` and
`sendbot init` (issue 16). The composition root's helpers, not the core: nothing here is
imported by the core, cogs or feeds."""
