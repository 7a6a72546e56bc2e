"""!rights: plain-English rights with the law and a link.

cog.py is the command; match/ finds the topic a parent's question is about. The words live in
cogs/content/ (shared with !timeline and !changes), and so does the check that validates them.
"""

from cogs.content.check import check
from cogs.content.settings import ContentSettings as SETTINGS
from cogs.rights.cog import RightsCog, setup

__all__ = ["SETTINGS", "RightsCog", "check", "setup"]
