"""`sendbot reports export`: reports as CSV or JSON, for escalation to the local authority or DfE.

Personal data (who reported, who wrote a reported message, its link, channel ids and the
moderators' notes with their names) is left out unless `--include-personal` is given. The
report text is included: it is the claim being escalated, and it was redacted before it
was stored, but it is free text, so read the file before sending it on.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from cogs.timeline.dates import DateError, parse_date
from storage.db import StorageError, describe_error
from storage.handle import database_errors
from storage.open import describe_target, open_database
from storage.reports import Note, Report, ReportsRepo


# What opening or reading the database can raise, whichever engine.
def _failures() -> tuple[type[BaseException], ...]:
    return (OSError, StorageError, *database_errors())


PUBLIC_FIELDS = (
    "id",
    "created_at",
    "platform",
    "scope_id",
    "kind",
    "source",
    "status",
    "closed_at",
    "tags",
    "text",
    "redactions",
    "correction_topic",
    "corrected_at",
    "erased",
)
PERSONAL_FIELDS = (
    "reporter_id",
    "channel_id",
    "channel_name",
    "message_link",
    "message_author_id",
    "message_author_name",
    "resolution",
    "notes",
)
# Spreadsheet programs run cells that start with these as formulas; report text is
# untrusted, so such cells are prefixed with an apostrophe in CSV (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "json")
PROG = "sendbot reports export"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    reports = subparsers.add_parser("reports", help="misinformation reports: export")
    sub = reports.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    p = sub.add_parser(
        "export",
        parents=[common],
        help="export reports since a date as CSV or JSON (no personal data unless --include-personal)",
    )
    p.add_argument(
        "--since",
        required=True,
        type=_date,
        metavar="DATE",
        help="reports made on or after this day: 1/9/2026, 1 Sep 2026, 2026-09-01 or today (day first)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: from the --output file's ending, .json or .csv; else csv)",
    )
    p.add_argument("--include-personal", action="store_true", help="add reporter/author ids, links, notes")
    p.add_argument("--platform", choices=("console", "discord", "slack"), help="only this platform")
    p.add_argument("--scope", metavar="ID", help="only this Discord server / Slack workspace id")
    p.add_argument("--output", metavar="PATH", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_export)


def _date(value: str) -> date:
    """Dates as chat reads them (day first: 1/9/2026, 1 Sep 2026, 2026-09-01 or today)."""
    try:
        return parse_date(value, datetime.now(UTC).date())
    except DateError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class ExportError(Exception):
    """A problem with what was asked, told in one line (exit 2), never a traceback."""


def _format(args: argparse.Namespace) -> str:
    """The format: as given, else from the output file's ending (.json or .csv), else csv. A
    format that contradicts the file's ending is refused: a .json file holding CSV would
    puzzle whoever opens it."""
    ending = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    if args.format is None:
        return ending if ending in FORMATS else "csv"
    if ending in FORMATS and ending != args.format:
        raise ExportError(
            f"--format {args.format} does not match {args.output} (a .{ending} file): "
            f"use --format {ending}, or name the file .{args.format}"
        )
    return str(args.format)


def _check_output(output: str) -> None:
    """Refuse an output path that cannot be written, before the database is read."""
    path = Path(output)
    if path.is_dir():
        raise ExportError(f"{output} is a folder; give a file name")
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"cannot write {output}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise ExportError(f"cannot write {output}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ExportError(f"cannot write {output}: no permission")


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    since = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC)
    try:
        fmt = _format(args)
        if args.output:
            _check_output(args.output)
    except ExportError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    if not config.storage.url and not Path(config.storage.path).exists():
        print(f"{PROG}: no database at {config.storage.path}", file=sys.stderr)
        return 1
    try:
        rows = asyncio.run(_load(config, since, args.platform, args.scope))
    except _failures() as e:
        print(f"{PROG}: {describe_error(describe_target(config.storage), e)}", file=sys.stderr)
        return 1
    text = render(rows, fmt=fmt, include_personal=args.include_personal)
    if args.output:
        try:
            _write_private(Path(args.output), text)
        except OSError as e:
            print(f"{PROG}: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return 2
        print(f"Wrote {len(rows)} report(s) to {args.output} as {fmt.upper()}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


async def _load(
    config: Config, since: datetime, platform: str | None, scope: str | None
) -> list[tuple[Report, list[Note]]]:
    db = await open_database(config.storage)
    try:
        return await ReportsRepo(db).for_export(since, platform, scope)
    finally:
        await db.close()


def _write_private(path: Path, text: str) -> None:
    """Create the file readable by its owner only: exports can hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def record(report: Report, notes: list[Note], *, include_personal: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in PUBLIC_FIELDS:
        data[name] = list(report.tags) if name == "tags" else getattr(report, name)
    if include_personal:
        for name in PERSONAL_FIELDS:
            if name == "notes":
                data["notes"] = [{"at": n.at, "moderator": n.moderator_name, "text": n.text} for n in notes]
            else:
                data[name] = getattr(report, name)
    return data


def render(rows: list[tuple[Report, list[Note]]], *, fmt: str, include_personal: bool) -> str:
    records = [record(r, n, include_personal=include_personal) for r, n in rows]
    if fmt == "json":
        return json.dumps({"reports": records, "personal_data": include_personal}, ensure_ascii=False, indent=2) + "\n"
    fields = list(PUBLIC_FIELDS) + (list(PERSONAL_FIELDS) if include_personal else [])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: _csv_cell(v) for k, v in rec.items()})
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            value = " | ".join(f"{n['at']} {n['moderator']}: {n['text']}" for n in value)
        else:
            value = ", ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
