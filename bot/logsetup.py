"""Logging: stdlib, one line per event, to stderr so stdout stays the bot's own output."""

from __future__ import annotations

import logging
import sys

SQL_LOGGERS = ("aiosqlite", "sqlite3")


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Client libraries are chatty at INFO; their warnings still show.
    for noisy in ("discord", "slack_bolt", "slack_sdk", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # Loggers that print SQL with its parameters (report text, which may name a child) stay at
    # WARNING whatever [logging] level says: PRIVACY.md promises report text is not logged.
    for leaky in SQL_LOGGERS:
        logging.getLogger(leaky).setLevel(logging.WARNING)
