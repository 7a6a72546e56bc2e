"""Computed deadlines as an iCalendar (.ics) file a parent can add to their phone's calendar."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.model import Attachment
from cogs.timeline.deadlines import Deadline

PRODID = "-//sendbot//SEND deadlines//EN"
DISCLAIMER = "Not legal advice. Free independent help: your local SENDIASS, IPSEA, Contact and your parent carer forum."


def _uid(kind: str, d: Deadline, computation: str) -> str:
    # Unique per computation: two children's appeals due the same day are two events, and a
    # phone calendar must not let one overwrite the other. Within one file, each step differs.
    digest = hashlib.sha256(f"{computation}|{kind}|{d.key}|{d.due.isoformat()}".encode()).hexdigest()[:24]
    return f"{digest}@sendbot"


def build_calendar(
    kind: str, title: str, deadlines: Sequence[Deadline], stamp: datetime, computation: str | None = None
) -> bytes:
    """One all-day event per deadline, each with a reminder a week before. `computation`
    identifies this answer (random unless given), so its events never replace another's."""
    computation = computation or secrets.token_hex(8)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"SEND: {title}")
    for d in deadlines:
        # Labels read "Final EHC plan issued by" before a date; a calendar entry is the date.
        # Only " by" is dropped: a label must still make sense without it (see timeline.toml).
        what = d.label.removesuffix(" by")
        event = Event()
        event.add("uid", _uid(kind, d, computation))
        event.add("dtstamp", stamp)
        event.add("dtstart", d.due)
        event.add("dtend", d.due + timedelta(days=1))
        event.add("summary", f"SEND deadline: {what}")
        description = [d.how, f"Rule: {d.rule}", d.url]
        if d.note:
            description.insert(1, d.note)
        description.append(DISCLAIMER)
        event.add("description", "\n".join(description))
        event.add("url", d.url)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"In a week: {what}")
        alarm.add("trigger", timedelta(days=-7))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


def calendar_attachment(kind: str, title: str, deadlines: Sequence[Deadline], stamp: datetime) -> Attachment:
    first = min(d.due for d in deadlines)
    return Attachment(
        filename=f"send-{kind}-{first.isoformat()}.ics",
        content=build_calendar(kind, title, deadlines, stamp),
        mime_type="text/calendar",
    )
