"""`sendbot check`: the content files load and validate, and no entry is overdue for review."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.config import Config
from cogs.content.model import REVIEW_MONTHS, ContentError, load_for


def check(config: Config, *, today: date | None = None) -> tuple[list[str], list[str]]:
    """(problems, warnings): invalid content is a problem; a stale review is a warning."""
    try:
        content = load_for(config)
    except ContentError as e:
        return [f"content: {p}" for p in e.problems], []
    today = today or datetime.now(UTC).astimezone(ZoneInfo(config.bot.timezone)).date()
    warnings = [
        f"content: {file} entry {entry_id!r} was last reviewed on {reviewed.isoformat()}, "
        f"more than {REVIEW_MONTHS} months ago: check it against its sources and update `reviewed`"
        for file, entry_id, reviewed in content.stale(today)
    ]
    warnings += [
        f"content: {file} topic {entry_id!r} cites only secondary sources (secondary_only): {reason}"
        for file, entry_id, reason in content.secondary_only()
    ]
    return [], warnings
