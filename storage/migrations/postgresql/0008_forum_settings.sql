-- PostgreSQL's version of migration 0008 (see ../0008_forum_settings.sql): each forum's own
-- settings, and the channel each report's announcement went to.
CREATE TABLE forum_settings (
    platform    TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (platform, scope_id, key)
);

ALTER TABLE reports ADD COLUMN announce_channel_id TEXT;
