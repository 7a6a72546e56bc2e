"""Logging: stdlib, one line per event, to stderr so stdout stays the bot's own output.

`[logging] format = "json"` writes one JSON object per line (for a log collector: journald,
Docker, Loki). The interactive console writes its log to a file (`[logging] console_file`)
and shows only warnings at the prompt, so log lines do not break into the conversation."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

SQL_LOGGERS = ("aiosqlite", "sqlite3")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the
    traceback as `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def _formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(level: str, fmt: str = "text", *, file: str | Path | None = None) -> Path | None:
    """Log at `level` to stderr; with `file`, log there instead and show only warnings on
    stderr. Returns the file in use (None if it could not be opened: then stderr has it all)."""
    root = logging.getLogger()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(_formatter(fmt))
    handlers: list[logging.Handler] = [stderr]
    used: Path | None = None
    if file is not None:
        try:
            Path(file).parent.mkdir(parents=True, exist_ok=True)
            to_file = logging.FileHandler(file, encoding="utf-8")
        except OSError as e:
            print(f"sendbot: cannot write the log file {file} ({e.strerror or e}); logging here", file=sys.stderr)
        else:
            to_file.setFormatter(_formatter(fmt))
            stderr.setLevel(logging.WARNING)
            handlers.append(to_file)
            used = Path(file)
    root.handlers[:] = handlers
    root.setLevel(level)
    # Client libraries are chatty at INFO; their warnings still show.
    for noisy in ("discord", "slack_bolt", "slack_sdk", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # Loggers that print SQL with its parameters (report text, which may name a child) stay at
    # WARNING whatever [logging] level says: PRIVACY.md promises report text is not logged.
    for leaky in SQL_LOGGERS:
        logging.getLogger(leaky).setLevel(logging.WARNING)
    return used
