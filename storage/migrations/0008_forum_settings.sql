-- Per-forum settings (issue 15 part 5): what a forum's moderators set with `!settings`, one
-- row per Discord server, Slack workspace or console and setting. A setting with no row takes
-- its default from the TOML config. Values are text as the bot stores them (a channel id, a
-- role id, a time zone name, "yes"/"no"); each change is also written to audit_log.
CREATE TABLE forum_settings (
    platform    TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (platform, scope_id, key)
);

-- The channel each report's announcement was posted in: a forum may change its moderators'
-- channel, and an announcement must still be found (and removed when the report's text is
-- erased) in the channel it went to. NULL for announcements made before this migration.
ALTER TABLE reports ADD COLUMN announce_channel_id TEXT;
