"""The audit log repository: every moderator action is recorded with who, what and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storage.handle import Database, Tx


class Who(Protocol):
    """Whoever acted (bot.model.Actor has these; storage imports nothing of the bot's)."""

    @property
    def platform(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    platform: str
    scope_id: str
    actor_id: str
    actor_name: str
    action: str
    target: str
    detail: str


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, actor: Who, scope_id: str, action: str, target: str = "", detail: str = "", *, tx: Tx | None = None
    ) -> None:
        """Record an action; pass `tx` to make it part of the caller's transaction."""
        sql = (
            "INSERT INTO audit_log(platform, scope_id, actor_id, actor_name, action, target, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        params = (actor.platform, scope_id, actor.id, actor.name, action, target, detail[:500])
        if tx is not None:
            await tx.execute(sql, params)
        else:
            await self.db.execute(sql, params)

    async def recent(self, platform: str, scope_id: str, limit: int = 20) -> list[AuditEntry]:
        rows = await self.db.fetchall(
            "SELECT * FROM audit_log WHERE platform = ? AND scope_id = ? ORDER BY id DESC LIMIT ?",
            (platform, scope_id, limit),
        )
        return [AuditEntry(**dict(r)) for r in rows]
