"""Counters the bot keeps about itself, exposed in Prometheus' format on `/metrics` when
`[ops] http_port` is set (bot/ops/health.py). One registry per `BotCore`, so two bots in one
process (the tests) never add to each other's numbers.

Labels are bounded: a command's registered name (never the text typed; an unknown command is
`(unknown)`), an outcome from a fixed list, a platform name. Nothing a person wrote is a label.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Most commands answer in milliseconds; `!rights` builds its index on first use; a slow
# platform call can take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNKNOWN_COMMAND = "(unknown)"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter(
            "sendbot_commands", "Commands handled, by command name and outcome.", ["command", "outcome"], registry=r
        )
        self.command_seconds = Histogram(
            "sendbot_command_duration_seconds",
            "Time to handle a command (the cog's work, not sending the reply).",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.feed_fetches = Counter(
            "sendbot_feed_fetches", "Feed fetches, by result (new, unchanged, error, paused).", ["result"], registry=r
        )
        self.deliveries = Counter(
            "sendbot_deliveries",
            "Feed posts and notices sent to a platform, by platform and result (sent, retrying, failed).",
            ["platform", "result"],
            registry=r,
        )
        self.rate_limited = Counter(
            "sendbot_rate_limited",
            "HTTP 429 answers received, by who sent them (slack; feeds for a feed's own site).",
            ["source"],
            registry=r,
        )
        self.poll_cycles = Counter("sendbot_feed_poll_cycles", "Feed poll cycles completed without error.", registry=r)
        # Read from the database (or the core) at each scrape, by bot/ops/health.py.
        self.outbox_depth = Gauge("sendbot_outbox_depth", "Feed deliveries waiting to be sent.", registry=r)
        self.reports_open = Gauge("sendbot_reports_open", "Misinformation reports open in the queue.", registry=r)
        self.adapter_connected = Gauge(
            "sendbot_adapter_connected", "1 when the platform adapter is connected.", ["platform"], registry=r
        )
        self.last_poll_age = Gauge(
            "sendbot_feed_last_poll_cycle_age_seconds",
            "Seconds since the last feed poll cycle that completed (absent before the first).",
            registry=r,
        )
        self.database_up = Gauge("sendbot_database_up", "1 when the database answers a query.", registry=r)

    def command(self, name: str | None, outcome: str, seconds: float) -> None:
        label = name or UNKNOWN_COMMAND
        self.commands.labels(label, outcome).inc()
        self.command_seconds.labels(label).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
