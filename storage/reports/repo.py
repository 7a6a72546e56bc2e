"""`ReportsRepo`: one object for the cog, put together from the parts of the repository, each
in its own module by reason to change."""

from __future__ import annotations

from storage.reports.announcements import Announcements
from storage.reports.erasure import Erasure
from storage.reports.moderation import Moderation
from storage.reports.queries import Queries


class ReportsRepo(Queries, Announcements, Moderation, Erasure):
    """Misinformation reports, their tags and the moderators' notes (see the package docstring)."""
