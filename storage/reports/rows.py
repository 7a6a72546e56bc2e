"""The values the reports repository takes and gives: plain dataclasses, and the stored form
of a time. Times are passed in by the caller (the bot's clock), never taken from SQLite's
`now`, so tests with a fixed clock see exactly what production does."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Status = Literal["open", "resolved", "dismissed"]
EraseReason = Literal["forgotten", "purged", "retention"]


def iso(dt: datetime) -> str:
    """The stored form of a time: UTC, second precision, sortable as text."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewReport:
    platform: str
    scope_id: str
    kind: Literal["told", "message"]
    text: str
    reporter_id: str
    channel_id: str
    channel_name: str = ""
    channel_is_direct: bool = False
    source: str | None = None
    redactions: int = 0
    message_id: str | None = None
    message_link: str | None = None
    message_author_id: str | None = None
    message_author_name: str | None = None
    # The reporter asked to be told the outcome by private message.
    notify: bool = False


# The reports table enforces these with CHECK constraints (migration 0003).
ReportStatus = Literal["open", "resolved", "dismissed"]
AnnounceStatus = Literal["pending", "sending", "sent", "failed", "unrouted"]


@dataclass(frozen=True)
class Report:
    id: int
    platform: str
    scope_id: str
    kind: Literal["told", "message"]
    source: str | None
    status: ReportStatus
    created_at: str
    text: str | None
    redactions: int
    reporter_id: str | None
    channel_id: str
    channel_name: str
    channel_is_direct: bool
    message_id: str | None
    message_link: str | None
    message_author_id: str | None
    message_author_name: str | None
    announce_status: AnnounceStatus
    announce_attempts: int
    announce_message_id: str | None
    closed_at: str | None
    resolution: str | None
    corrected_at: str | None
    correction_topic: str | None
    correction_message_id: str | None
    erased: str | None
    erased_at: str | None
    tags: tuple[str, ...] = ()
    # The announcement was (or may have been) cut off mid-send: retry it as unsure.
    announce_unsure: bool = False
    # The parent's receipt has not been confirmed delivered.
    receipt_pending: bool = False
    # The reporter asked to be told the outcome (cleared when the report is erased).
    notify_outcome: bool = False
    # Where the announcement went (None before migration 0008: the moderators' channel then).
    announce_channel_id: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row, tags: Sequence[str] = ()) -> Report:
        data = dict(row)
        data["channel_is_direct"] = bool(data["channel_is_direct"])
        data["announce_unsure"] = data.pop("announce_sending_at", None) is not None
        data["receipt_pending"] = bool(data.get("receipt_pending", 0))
        data["notify_outcome"] = bool(data.get("notify_outcome", 0))
        return cls(**data, tags=tuple(sorted(tags)))


@dataclass(frozen=True)
class Note:
    id: int
    report_id: int
    at: str
    moderator_id: str
    moderator_name: str
    text: str


@dataclass(frozen=True)
class EraseCounts:
    reports: int = 0
    notes: int = 0
    # (report id, platform, scope id, message id, channel id or None) of moderators'
    # announcements that quoted the erased text: the caller removes them from the platform too.
    announcements: tuple[tuple[int, str, str, str, str | None], ...] = ()
