"""Running sendbot for real: backups and restores, health and metrics, `sendbot status` and
`sendbot init` (issue 16). The composition root's helpers, not the core: nothing here is
imported by the core, cogs or feeds."""

# The addresses the running bot serves on `[ops] http_port` (bot/ops/health.py); here, so that
# `sendbot status` knows them without loading the web server.
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
