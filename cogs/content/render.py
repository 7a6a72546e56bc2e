"""How content pieces look in a card, shared by !rights, !timeline and !changes."""

from __future__ import annotations

from bot.markup import link
from cogs.content.model import Source

# Orange for "what is changing" cards, so they never look like a statement of today's law.
CHANGES_COLOUR = 0xE65100

# The footer of every answer that states the law.
SIGNPOST = (
    "Not legal advice. Free independent help: your local SENDIASS, "
    "IPSEA (ipsea.org.uk), Contact (contact.org.uk) and your parent carer forum."
)


def sources_text(sources: list[Source]) -> str:
    return "\n".join(f"- {link(s.label, s.url)}" for s in sources)
