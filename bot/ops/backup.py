"""`sendbot backup` and `sendbot restore`: the database copied with SQLite's online backup API
(consistent while the bot runs), and a copy put back only while no bot holds the database.
With `[storage] url` (PostgreSQL), pg_dump and pg_restore do the same (bot/ops/pg_backup.py)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from bot.config import Config
from storage.backup import BackupError, backup_into, check_backup, copy_database, restore_into
from storage.db import InstanceLocked, bundled_migrations, instance_lock

DEFAULT_KEEP = 7


def default_folder(db_path: str) -> Path:
    """Where backups go unless `--to` says: `backups/` beside the database."""
    return Path(db_path).parent / "backups"


def make_backup(
    args: argparse.Namespace,
    shown: str,
    default: Path,
    one: Callable[[Path], Path],
    into: Callable[[Path, int], tuple[Path, list[Path]]],
    failed: Callable[[Exception], str | None],
) -> int:
    """`sendbot backup` for either database: `--to FILE` makes one copy with `one`; otherwise
    `into` adds a stamped copy to a folder and keeps the newest `--keep`. `failed` words an
    error it knows as one line (None: not one of its errors, raised on)."""
    keep = DEFAULT_KEEP if args.keep is None else args.keep
    try:
        dest = Path(args.to) if args.to else None
        if dest is not None and not (dest.is_dir() or args.to.endswith("/")):
            if args.keep is not None:
                print("sendbot backup: --keep applies to a folder of backups, not to one file", file=sys.stderr)
                return 2
            print(f"Backed up {shown} to {one(dest)}.")
            return 0
        made, removed = into(dest if dest is not None else default, keep)
    except Exception as e:
        line = failed(e)
        if line is None:
            raise
        print(f"sendbot backup: {line}", file=sys.stderr)
        return 1
    copies = "copy" if len(removed) == 1 else "copies"
    gone = f"; removed {len(removed)} older {copies} (keeping {keep})" if removed else ""
    print(f"Backed up {shown} to {made}{gone}.")
    return 0


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    if config.storage.url:
        from bot.ops.pg_backup import cmd_pg_backup

        return cmd_pg_backup(args, config, default_folder(config.storage.path))
    db = config.storage.path
    if db in ("", ":memory:"):
        print("sendbot backup: [storage] path is an in-memory database: there is nothing to back up", file=sys.stderr)
        return 1

    def failed(e: Exception) -> str | None:
        if isinstance(e, BackupError):
            return str(e)
        return f"{db}: {e}" if isinstance(e, sqlite3.Error | OSError) else None

    return make_backup(
        args,
        db,
        default_folder(db),
        lambda dest: copy_database(db, dest),
        lambda folder, keep: backup_into(folder, db, keep),
        failed,
    )


def cmd_restore(args: argparse.Namespace, config: Config) -> int:
    if config.storage.url:
        from bot.ops.pg_backup import cmd_pg_restore

        return cmd_pg_restore(args, config, default_folder(config.storage.path))
    if args.force:
        print("sendbot restore: --force is for PostgreSQL (SQLite keeps the old file anyway)", file=sys.stderr)
        return 2
    db = config.storage.path
    if db in ("", ":memory:"):
        print("sendbot restore: [storage] path is an in-memory database", file=sys.stderr)
        return 1
    known = max(m.version for m in bundled_migrations())
    try:
        info = check_backup(args.file, known)
        if Path(args.file).resolve() == Path(db).resolve():
            print(f"sendbot restore: {args.file} is the database itself", file=sys.stderr)
            return 2
        with instance_lock(db):
            kept = None
            if Path(db).is_file():
                kept = copy_database(db, f"{db}.pre-restore.bak")
            restore_into(info.path, db)
    except InstanceLocked as e:
        print(f"sendbot restore: {e} (restore while the bot is stopped)", file=sys.stderr)
        return 1
    except BackupError as e:
        print(f"sendbot restore: {e}", file=sys.stderr)
        return 1
    except (sqlite3.Error, OSError) as e:
        print(f"sendbot restore: {db}: {e}", file=sys.stderr)
        return 1
    before = f" The database as it was is kept at {kept}." if kept else ""
    print(
        f"Restored {info.path} (schema version {info.schema_version}) into {db}.{before}"
        " Start the bot again: it applies any newer migrations itself."
    )
    return 0


def register_cli(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "backup",
        parents=[common],
        help="copy the database safely, even while the bot runs (default: backups/ beside it)",
    )
    p.add_argument(
        "--to", metavar="PATH", help="a file to write, or a folder for timestamped copies (default: backups/)"
    )
    p.add_argument(
        "--keep",
        metavar="N",
        type=int,
        help=f"in a folder, keep only the newest N copies (default {DEFAULT_KEEP})",
    )
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser(
        "restore", parents=[common], help="put a backup back as the database (only while the bot is stopped)"
    )
    p.add_argument("file", metavar="FILE", help="a copy made by `sendbot backup`")
    p.add_argument(
        "--force",
        action="store_true",
        help="PostgreSQL: replace the tables of a database that is not empty (a dump of it is taken first)",
    )
    p.set_defaults(func=cmd_restore)
