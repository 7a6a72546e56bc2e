"""`sendbot db copy --to postgresql://...`: move a forum's SQLite database into an empty
PostgreSQL database (storage/copy.py), the step before setting `[storage] url` (docs/scaling.md)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bot.config import Config
from storage.copy import copy_sqlite_to_postgres
from storage.db import StorageError, describe_error
from storage.handle import database_errors
from storage.open import url_problem

PROG = "sendbot db copy"


def _failures() -> tuple[type[BaseException], ...]:
    return (OSError, *database_errors())


def cmd_copy(args: argparse.Namespace, config: Config) -> int:
    url = str(args.to).strip()
    if problem := url_problem(url):
        print(f"{PROG}: --to {problem}", file=sys.stderr)
        return 2
    source = args.source or config.storage.path
    if config.storage.url and not args.source:
        print(f"{PROG}: [storage] url is set already; name the SQLite file to copy with --from", file=sys.stderr)
        return 2
    password = config.storage.password_text() or os.environ.get("PGPASSWORD")
    try:
        report = asyncio.run(copy_sqlite_to_postgres(source, url, password=password))
    except StorageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except _failures() as e:
        print(f"{PROG}: {describe_error(url, e)}", file=sys.stderr)
        return 1
    for table, rows in report.rows.items():
        print(f"  {table}: {rows} row(s)")
    print(
        f"Copied {report.total} row(s) in {len(report.rows)} tables from {source} to {url}."
        f' Now set [storage] url = "{url}" and start sendbot. {source} is unchanged.'
    )
    return 0


def register_cli(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("db", help="database housekeeping")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = db_sub.add_parser(
        "copy",
        parents=[common],
        help="copy the SQLite database into an empty PostgreSQL database (stop the bot first)",
    )
    p.add_argument(
        "--to", required=True, metavar="URL", help="postgresql://user@host:5432/dbname (password: PGPASSWORD)"
    )
    p.add_argument("--from", dest="source", metavar="FILE", help="the SQLite file (default: [storage] path)")
    p.set_defaults(func=cmd_copy)
