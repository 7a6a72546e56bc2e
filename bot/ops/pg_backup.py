"""`sendbot backup` and `sendbot restore` when `[storage] url` names a PostgreSQL database:
pg_dump and pg_restore (storage/pg_backup.py), with the same options and messages as SQLite's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Config
from storage.pg import bundled_pg_migrations
from storage.pg_backup import PgBackupError, PgTarget, dump_into, dump_to, plan_restore, restore_from, schema_version


def target_of(config: Config) -> PgTarget:
    assert config.storage.url
    return PgTarget(config.storage.url, config.storage.password_text())


def cmd_pg_backup(args: argparse.Namespace, config: Config, default_folder: Path) -> int:
    from bot.ops.backup import make_backup

    target = target_of(config)
    return make_backup(
        args,
        target.shown,
        default_folder,
        lambda dest: dump_to(dest, target),
        lambda folder, keep: dump_into(folder, target, keep),
        lambda e: str(e) if isinstance(e, PgBackupError | OSError) else None,
    )


def cmd_pg_restore(args: argparse.Namespace, config: Config, backups: Path) -> int:
    target = target_of(config)
    try:
        plan = plan_restore(args.file, target, force=args.force)
        kept = None
        if plan.tables:
            print(f"Replacing the {plan.tables} tables in {target.shown} with {args.file} (--force).")
            kept = dump_to(backups / f"pre-restore-{Path(args.file).stem}.dump", target)
            print(f"The database as it was is kept at {kept}.")
        else:
            print(f"Restoring {args.file} into {target.shown} (it is empty).")
        restore_from(args.file, target, plan)
        version = schema_version(target)
    except PgBackupError as e:
        print(f"sendbot restore: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"sendbot restore: {e}", file=sys.stderr)
        return 1
    known = max(m.version for m in bundled_pg_migrations())
    if version > known:
        print(
            f"Restored, but the dump was made by a newer sendbot (schema version {version}; this version knows"
            f" up to {known}): run that newer version",
            file=sys.stderr,
        )
        return 1
    print(f"Restored {args.file} (schema version {version}). Start the bot again: it applies any newer migrations.")
    return 0
