-- A small key-value table for what the bot remembers about itself between runs (issue 17):
-- first, a hash of the Discord application commands last registered with each server (or
-- globally), so commands are synced only when their definition changed. No personal data.
CREATE TABLE bot_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
