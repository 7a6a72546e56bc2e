-- PostgreSQL's version of migration 0007 (see ../0007_bot_state.sql).
CREATE TABLE bot_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE slack_installations (
    team_id TEXT PRIMARY KEY,
    enterprise_id TEXT,
    team_name TEXT,
    app_id TEXT,
    bot_id TEXT,
    bot_user_id TEXT,
    bot_token TEXT NOT NULL,
    bot_scopes TEXT NOT NULL DEFAULT '',
    installer_user_id TEXT,
    installed_at TEXT NOT NULL
);
