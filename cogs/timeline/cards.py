"""The cards !timeline answers with: the overview of the EHC needs assessment, and a section's
deadlines worked out from the parent's dates. Pure: sections and deadlines in, a card out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.model import Card, CardField
from cogs.content.model import TimelineSection
from cogs.content.render import SIGNPOST, sources_text
from cogs.timeline.dates import format_date, format_long
from cogs.timeline.deadlines import Deadline
from cogs.timeline.phrases import DATE_MEANING, KINDS

TIMELINE_COLOUR = 0x1565C0
FIELD_LIMIT = 1000  # Discord allows 1024 characters per embed field


def chunk_fields(name: str, lines: Sequence[str]) -> list[CardField]:
    """Split a list into fields that fit Discord's per-field limit."""
    fields: list[CardField] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > FIELD_LIMIT:
            fields.append(CardField(name if not fields else f"{name} (continued)", "\n".join(current)))
            current = []
        current.append(line[:FIELD_LIMIT])
    if current:
        fields.append(CardField(name if not fields else f"{name} (continued)", "\n".join(current)))
    return fields


def dated_card(section: TimelineSection, kind: str, deadlines: list[Deadline], given: str | None, today: date) -> Card:
    """Each deadline with how it was worked out and the rule behind it (the .ics goes with it)."""
    body = [section.body]
    if given:
        body.append(given)
    body.append("")
    for d in deadlines:
        passed = " (this date has passed)" if d.due < today else ""
        body.append(f"**{format_date(d.due)}**{passed}: {d.label}")
        how = d.how if d.how.startswith("- ") else f"- {d.how}"
        body.append(how)
        body.append(f"- Rule: {d.rule}")
        if d.note:
            body.append(f"- {d.note}")
        body.append("")
    if kind == "appeal" and deadlines[0].due < today:
        body.append(
            "This deadline has passed. The tribunal can accept a late appeal only at its discretion: "
            "get advice quickly."
        )
    fields = chunk_fields("Good to know", [f"- {n}" for n in section.notes])
    fields.append(CardField("Sources", sources_text(section.sources)))
    fields.append(CardField("Reviewed", format_long(section.reviewed), inline=True))
    fields.append(CardField("Calendar", "The dates are attached as a calendar file (.ics) for your phone."))
    return Card(
        title=f"Timeline: {section.title}",
        body="\n".join(body).strip(),
        fields=tuple(fields),
        footer=SIGNPOST,
        colour=TIMELINE_COLOUR,
    )


def overview_card(section: TimelineSection, p: str) -> Card:
    """`!timeline` with nothing after it: the assessment's steps (`section`) week by week, and
    how to ask for one's own dates (`p` is the command prefix)."""
    lines = ["**Week 0**: the LA receives the request for an EHC needs assessment."]
    for s in sorted(section.steps, key=lambda s: (s.weeks, s.days)):
        lines.append(f"**Week {s.weeks}**: {s.label.removesuffix(' by')} ({s.rule}).")
    body = "\n".join(
        [
            "The steps of an EHC needs assessment and their statutory time limits:",
            "",
            *lines,
        ]
    )
    usage = [f"`{p}timeline {k} <{DATE_MEANING[k].split(' [')[0]}>`" for k in KINDS]
    usage.append(f"For example: `{p}timeline annual review 12/3/2026`, `{p}timeline tribunal order plan 1/6/2026`.")
    fields = chunk_fields("Good to know", [f"- {n}" for n in section.notes])
    fields.append(CardField("Your own dates", "\n".join(usage)))
    fields.append(CardField("Sources", sources_text(section.sources)))
    fields.append(CardField("Reviewed", format_long(section.reviewed), inline=True))
    return Card(
        title="Timeline: EHC needs assessment",
        body=body,
        fields=tuple(fields),
        footer=SIGNPOST,
        colour=TIMELINE_COLOUR,
    )
