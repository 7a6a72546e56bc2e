"""Misinformation reports: parents report, moderators triage, correct, export and erase.

cog.py composes `ReportsCog` from parents.py (!report, the message action, !myreports,
!forgetme), queue.py (the moderators' !reports commands), announcer.py (the moderators'
notices, retries and retractions) and retention.py (the maintenance run and `check`), on the
shared base in base.py; views.py renders the queue; redact.py takes personal details out of
report text; cli.py is `sendbot reports ...` for moderators; settings.py is its `[reports]` section.
"""

from cogs.reports.cli import register as register_cli
from cogs.reports.cog import ReportsCog, check, setup
from cogs.reports.settings import ReportsSettings as SETTINGS

__all__ = ["SETTINGS", "ReportsCog", "check", "register_cli", "setup"]
