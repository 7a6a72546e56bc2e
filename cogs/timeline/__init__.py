"""!timeline: statutory deadlines counted from the parent's own dates.

cog.py is the command; phrases.py holds the words parents use for the steps; dates.py reads the
dates parents type; deadlines.py is the date arithmetic (one function per legal rule); cards.py
builds the answer's card and calendar_file.py the .ics attachment.
"""

from cogs.content.check import check
from cogs.content.settings import ContentSettings as SETTINGS
from cogs.timeline.cog import TimelineCog, setup

__all__ = ["SETTINGS", "TimelineCog", "check", "setup"]
