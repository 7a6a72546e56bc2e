"""`ForumSettingsRepo`: each forum's own settings (migration 0008), as text under a key per
(platform, scope): a Discord server, a Slack workspace, the console. A change and its audit
row are written in one transaction, so the log never misses a change nor records one that
did not happen. Plain values in and out; which keys exist and what they mean is the bot's
(bot/forum_settings.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from storage.audit import AuditLog, Who
from storage.handle import Database
from storage.turns import take_turns


@dataclass(frozen=True)
class StoredSetting:
    key: str
    value: str
    updated_by: str
    updated_at: str


def _iso(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ForumSettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.audit = AuditLog(db)

    async def all(self, platform: str, scope_id: str) -> dict[str, StoredSetting]:
        """Every setting this forum has set, by key."""
        # The read-only connection: a command is not kept waiting behind a feed ingest.
        rows = await self.db.reader.fetchall(
            "SELECT key, value, updated_by, updated_at FROM forum_settings WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        return {
            str(r["key"]): StoredSetting(str(r["key"]), str(r["value"]), str(r["updated_by"]), str(r["updated_at"]))
            for r in rows
        }

    async def get(self, platform: str, scope_id: str, key: str) -> str | None:
        row = await self.db.reader.fetchone(
            "SELECT value FROM forum_settings WHERE platform = ? AND scope_id = ? AND key = ?",
            (platform, scope_id, key),
        )
        return None if row is None else str(row["value"])

    async def set(self, who: Who, scope_id: str, key: str, value: str, *, at: datetime | None = None) -> str | None:
        """Store `value` for this forum (the platform is `who`'s); return the value it replaced."""
        async with self.db.transaction() as t:
            # Instances sharing PostgreSQL change one forum's setting one at a time.
            await take_turns(self.db, t, f"setting:{who.platform}:{scope_id}:{key}")
            row = await t.fetchone(
                "SELECT value FROM forum_settings WHERE platform = ? AND scope_id = ? AND key = ?",
                (who.platform, scope_id, key),
            )
            old = None if row is None else str(row["value"])
            # Update, then insert if there was nothing: portable to PostgreSQL as written.
            if old is None:
                await t.execute(
                    "INSERT INTO forum_settings(platform, scope_id, key, value, updated_by, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (who.platform, scope_id, key, value, who.id, _iso(at)),
                )
            else:
                await t.execute(
                    "UPDATE forum_settings SET value = ?, updated_by = ?, updated_at = ?"
                    " WHERE platform = ? AND scope_id = ? AND key = ?",
                    (value, who.id, _iso(at), who.platform, scope_id, key),
                )
            detail = f"{old if old is not None else '(default)'} -> {value}"
            await self.audit.record(who, scope_id, "settings set", key, detail, tx=t)
        return old

    async def reset(self, who: Who, scope_id: str, key: str) -> str | None:
        """Forget this forum's value (the default applies again); return it, or None if unset.
        Nothing is written, not even to the log, when there was nothing to forget."""
        async with self.db.transaction() as t:
            # Instances sharing PostgreSQL change one forum's setting one at a time.
            await take_turns(self.db, t, f"setting:{who.platform}:{scope_id}:{key}")
            row = await t.fetchone(
                "SELECT value FROM forum_settings WHERE platform = ? AND scope_id = ? AND key = ?",
                (who.platform, scope_id, key),
            )
            if row is None:
                return None
            await t.execute(
                "DELETE FROM forum_settings WHERE platform = ? AND scope_id = ? AND key = ?",
                (who.platform, scope_id, key),
            )
            old = str(row["value"])
            await self.audit.record(who, scope_id, "settings reset", key, f"{old} -> (default)", tx=t)
        return old
