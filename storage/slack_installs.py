"""Slack workspaces the bot is installed in through OAuth (migration 0007): one row per
workspace with its bot token. The token is a secret; nothing else personal is kept (the
installer's user id only, as Slack reports it)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.handle import Database


@dataclass(frozen=True)
class SlackInstall:
    team_id: str
    enterprise_id: str | None
    team_name: str | None
    app_id: str | None
    bot_id: str | None
    bot_user_id: str | None
    bot_token: str
    bot_scopes: str
    installer_user_id: str | None
    installed_at: str


_COLUMNS = (
    "team_id, enterprise_id, team_name, app_id, bot_id, bot_user_id, bot_token, bot_scopes,"
    " installer_user_id, installed_at"
)


# An install again replaces every column (as INSERT OR REPLACE did, in SQL both engines speak).
_REPLACE = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.replace(" ", "").split(",") if c != "team_id")


class SlackInstalls:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, install: SlackInstall) -> None:
        """Installed (or installed again, with new scopes or a new token): the latest wins."""
        await self.db.execute(
            f"INSERT INTO slack_installations({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (team_id) DO UPDATE SET {_REPLACE}",
            (
                install.team_id,
                install.enterprise_id,
                install.team_name,
                install.app_id,
                install.bot_id,
                install.bot_user_id,
                install.bot_token,
                install.bot_scopes,
                install.installer_user_id,
                install.installed_at,
            ),
        )

    async def find(self, team_id: str) -> SlackInstall | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM slack_installations WHERE team_id = ?", (team_id,))
        return None if row is None else SlackInstall(**dict(row))

    async def delete(self, team_id: str) -> None:
        """Uninstalled (or its token revoked): forget the token."""
        await self.db.execute("DELETE FROM slack_installations WHERE team_id = ?", (team_id,))

    async def teams(self) -> list[str]:
        rows = await self.db.fetchall("SELECT team_id FROM slack_installations ORDER BY installed_at")
        return [str(r["team_id"]) for r in rows]
