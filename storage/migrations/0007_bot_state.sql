-- A small key-value table for what the bot remembers about itself between runs (issue 17):
-- first, a hash of the Discord application commands last registered with each server (or
-- globally), so commands are synced only when their definition changed. No personal data.
CREATE TABLE bot_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Slack installed in several workspaces through OAuth ([slack] client_id): each workspace's
-- bot token, saved when an admin installs the app there, read for every call to that
-- workspace. A secret: the database file must be kept as private as the config file.
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
