"""How reports look in chat: cards for moderators and parents, built from stored reports.

Every piece of text a member wrote (the report, a reported message, an author's display
name, a moderator's note) goes through `bot.markup.escape`, so it cannot add links or
formatting; adapters then make any mention syntax in it inert. Kept apart from the cog so
the workflow there reads without layout noise. The summary's grouping of similar untagged
reports (`similar_claims`) lives here with the summary card, its only user.
"""

from __future__ import annotations

from datetime import tzinfo

from rapidfuzz import fuzz, utils

from bot.markup import escape
from bot.model import Card, CardField, Reply
from storage.reports import Note, Report, parse_iso

SOURCE_LABELS = {"school": "a school", "LA": "the local authority", "health": "a health service", "other": "other"}
STATUS_LABELS = {"open": "open", "resolved": "resolved", "dismissed": "dismissed"}
ERASED_LABELS = {
    "forgotten": "deleted at the reporter's request",
    "purged": "deleted by a moderator (user data purge)",
    "retention": "deleted after the retention period",
}
# Whether the new-report notice reached the moderators' channel, in words for `!reports show`.
ANNOUNCE_LABELS = {
    "pending": "not posted to the moderators' channel yet; the bot will try again",
    "failed": "posting to the moderators' channel failed; the bot will try again",
    "unrouted": (
        "not posted: no moderators' channel is set for this forum yet. "
        "Ask whoever runs the bot to choose one (the reports guide says how)"
    ),
}
# Discord embeds allow 4096 characters in a description and 1024 in a field; staying well
# under keeps every adapter's limits comfortable.
BODY_LIMIT = 1500
FIELD_LIMIT = 900


def clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe(text: str, limit: int) -> str:
    """Member-written text, shortened and made literal."""
    return escape(clip(text, limit))


def one_line(text: str | None, limit: int = 80) -> str:
    if text is None:
        return "*(text deleted)*"
    return safe(" ".join(text.split()), limit)


def plural(count: int, noun: str) -> str:
    """The count and the noun, with an s unless the count is 1: "1 report", "2 reports"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def when(stamp: str, tz: tzinfo) -> str:
    t = parse_iso(stamp).astimezone(tz)
    return f"{t.day} {t:%b %Y %H:%M}"


def day(stamp: str, tz: tzinfo) -> str:
    t = parse_iso(stamp).astimezone(tz)
    return f"{t.day} {t:%b %Y}"


def where(report: Report) -> str:
    if report.channel_is_direct:
        return "a direct message"
    name = report.channel_name or report.channel_id
    return f"#{escape(name)}"


def status_line(report: Report) -> str:
    line = STATUS_LABELS.get(report.status, report.status)
    if report.corrected_at:
        line += ", correction posted"
    return line


def _text_body(report: Report, limit: int) -> str:
    if report.text is None:
        return f"*(text {ERASED_LABELS.get(report.erased or '', 'deleted')})*"
    return safe(report.text, limit) if report.text else "*(the message had no text)*"


def announcement(report: Report, *, prefix: str, reporter: str | None, also: int | None) -> Reply:
    """The notice in the moderators' channel. `reporter` is shown only when configured."""
    fields: list[CardField] = []
    if report.kind == "message":
        lines = [f"Posted in {where(report)}"]
        if report.message_author_name:
            lines.append(f"By {escape(clip(report.message_author_name, 80))}")
        if report.message_link:
            lines.append(f"[Open the message]({report.message_link})")
        fields.append(CardField("Reported message", "\n".join(lines)))
    else:
        if report.source:
            fields.append(CardField("Told by", SOURCE_LABELS.get(report.source, report.source), inline=True))
        fields.append(CardField("Reported in", where(report), inline=True))
    if also is not None:
        fields.append(CardField("Also reported as", f"#{also}", inline=True))
    if reporter is not None:
        fields.append(CardField("Reporter", escape(clip(reporter, 120)), inline=True))
    if report.redactions:
        fields.append(CardField("Redacted", f"{report.redactions} personal detail(s) removed", inline=True))
    p = prefix
    footer = f"{p}reports show {report.id} · {p}reports tag {report.id} <tag> · {p}reports correct {report.id} <topic>"
    title = f"New report #{report.id}" + (" (a message)" if report.kind == "message" else "")
    return Reply(card=Card(title=title, body=_text_body(report, BODY_LIMIT), fields=tuple(fields), footer=footer))


def list_card(
    reports: list[Report], *, total: int, page: int, pages: int, status: str, tag: str | None, prefix: str, tz: tzinfo
) -> Card:
    what = "all" if status == "all" else status
    title = f"Reports: {what}" + (f", tagged {tag}" if tag else "") + f" ({total})"
    if not reports:
        return Card(title=title, body="Nothing to show.")
    lines = []
    for r in reports:
        bits = [f"**#{r.id}**", day(r.created_at, tz)]
        if status == "all":
            bits.append(r.status)
        if r.source:
            bits.append(r.source)
        if r.kind == "message":
            bits.append("message")
        if r.tags:
            bits.append(", ".join(r.tags))
        lines.append(" · ".join(bits) + f"\n{one_line(r.text)}")
    footer = f"Page {page} of {pages}."
    if page < pages:
        footer += f" Next: {prefix}reports {page + 1}" + ("" if status == "open" else f" status={status}")
        footer += f" tag={tag}" if tag else ""
    footer += f" · Details: {prefix}reports show <number>"
    return Card(title=title, body="\n".join(lines), footer=footer)


def detail_card(report: Report, notes: list[Note], *, show_reporter: bool, tz: tzinfo) -> Card:
    fields = [
        CardField("Status", status_line(report), inline=True),
        CardField("Reported", when(report.created_at, tz), inline=True),
    ]
    if report.source:
        fields.append(CardField("Told by", SOURCE_LABELS.get(report.source, report.source), inline=True))
    fields.append(CardField("Where", where(report), inline=True))
    if report.notify_outcome:
        # So the moderator knows the parent will get a private message about what they do.
        fields.append(CardField("Parent told of the outcome", "Yes, they asked", inline=True))
    if report.kind == "message":
        lines = []
        if report.message_author_name:
            lines.append(f"By {escape(clip(report.message_author_name, 80))}")
        if report.message_link:
            lines.append(f"[Open the message]({report.message_link})")
        if lines:
            fields.append(CardField("Reported message", "\n".join(lines)))
    if report.tags:
        fields.append(CardField("Tags", ", ".join(report.tags)))
    if notes:
        note_lines = [f"{day(n.at, tz)}, {escape(clip(n.moderator_name, 40))}: {safe(n.text, 300)}" for n in notes]
        fields.append(CardField("Notes", clip("\n".join(note_lines), FIELD_LIMIT)))
    if report.closed_at:
        closed = f"{STATUS_LABELS.get(report.status, report.status)} {when(report.closed_at, tz)}"
        if report.resolution:
            closed += f": {safe(report.resolution, 300)}"
        fields.append(CardField("Closed", closed))
    if report.corrected_at:
        fields.append(
            CardField("Correction", f"{escape(report.correction_topic or '')} posted {when(report.corrected_at, tz)}")
        )
    if show_reporter and report.reporter_id:
        fields.append(CardField("Reporter id", escape(report.reporter_id), inline=True))
    if report.announce_status != "sent":
        label = ANNOUNCE_LABELS.get(report.announce_status, report.announce_status)
        fields.append(CardField("Announcement", label, inline=True))
    return Card(title=f"Report #{report.id}", body=_text_body(report, BODY_LIMIT), fields=tuple(fields))


def my_reports_card(reports: list[Report], *, more: bool, prefix: str, tz: tzinfo) -> Card:
    if not reports:
        return Card(
            title="Your reports",
            body=f"You have no stored reports. Send one with `{prefix}report <what you were told>`.",
        )
    lines = [f"**#{r.id}** · {day(r.created_at, tz)} · {status_line(r)}\n{one_line(r.text)}" for r in reports]
    title = f"Your {len(reports)} most recent reports" if more else f"Your reports ({len(reports)})"
    return Card(
        title=title,
        body="\n".join(lines),
        footer=f"To delete what you wrote and your link to these reports: {prefix}forgetme",
    )


def summary_card(title: str, items: list[Report], *, prefix: str) -> Card:
    """`!reports summary`: counts by status, source and tag, and groups of similar untagged reports."""
    by_status: dict[str, int] = {}
    by_source: dict[str, int] = {}
    by_tag: dict[str, int] = {}
    for r in items:
        by_status[r.status] = by_status.get(r.status, 0) + 1
        source = r.source or ("a reported message" if r.kind == "message" else "not said")
        by_source[source] = by_source.get(source, 0) + 1
        for t in r.tags:
            by_tag[t] = by_tag.get(t, 0) + 1
    fields = [
        CardField("By status", _counts(by_status), inline=True),
        CardField("Told by", _counts(by_source), inline=True),
    ]
    if by_tag:
        fields.append(CardField("Most reported claims (tags)", _counts(by_tag, limit=10)))
    clusters = similar_claims([r for r in items if not r.tags and r.text])
    if clusters:
        lines = [f"{len(c)}× {one_line(c[0].text, 100)} (#{', #'.join(str(r.id) for r in c[:5])})" for c in clusters]
        fields.append(CardField("Similar untagged reports", clip("\n".join(lines), FIELD_LIMIT)))
    return Card(
        title=title,
        fields=tuple(fields),
        footer=f"Tag reports with {prefix}reports tag <number> <tag> so they count together.",
    )


def similar_claims(reports: list[Report], *, threshold: float = 70.0, limit: int = 5) -> list[list[Report]]:
    """Groups of reports with near-identical wording, largest first (only groups of 2+).

    A greedy pass against each group's first report: cheap enough for the few hundred
    untagged reports a forum sees in a month, and good enough to suggest a tag.
    """
    groups: list[tuple[str, list[Report]]] = []
    for r in reports[:500]:
        key = utils.default_process(r.text or "")
        if not key:
            continue
        for rep, members in groups:
            if fuzz.token_sort_ratio(key, rep) >= threshold:
                members.append(r)
                break
        else:
            groups.append((key, [r]))
    found = [members for _, members in groups if len(members) > 1]
    found.sort(key=len, reverse=True)
    return found[:limit]


def _counts(counts: dict[str, int], limit: int = 20) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return "\n".join(f"{escape(k)}: {v}" for k, v in ordered)
