"""The reports repository: misinformation reports, their tags and the moderators' notes.

All SQL for reports lives here, so the cog reads as the workflow it is and another backend
can stand beside SQLite later. Times are passed in by the caller (the bot's clock), never
taken from SQLite's `now`, so tests with a fixed clock see exactly what production does.

Writes take an optional `tx` so that the cog can put a change and its audit-log entry in
one transaction.

The modules: rows.py (the values in and out), queries.py (creating and reading),
announcements.py (the moderators' notice and the parent's receipt), moderation.py (tags,
notes, closing), erasure.py (forgetting, purging, retention), base.py (what they share) and
repo.py (`ReportsRepo`, all of them as one object).
"""

from storage.reports.repo import ReportsRepo
from storage.reports.rows import (
    AnnounceStatus,
    EraseCounts,
    EraseReason,
    NewReport,
    Note,
    Report,
    ReportStatus,
    Status,
    iso,
    parse_iso,
)

__all__ = [
    "AnnounceStatus",
    "EraseCounts",
    "EraseReason",
    "NewReport",
    "Note",
    "Report",
    "ReportStatus",
    "ReportsRepo",
    "Status",
    "iso",
    "parse_iso",
]
