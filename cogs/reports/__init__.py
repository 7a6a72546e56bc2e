"""Misinformation reports: parents report, moderators triage, correct, export and erase.

cog.py holds the commands, retention and the announcer; views.py renders the queue; redact.py
takes personal details out of report text; cli.py is `sendbot reports ...` for moderators.
"""

from cogs.reports.cli import register as register_cli
from cogs.reports.cog import ReportsCog, check, setup

__all__ = ["ReportsCog", "check", "register_cli", "setup"]
