-- Feeds pipeline: feeds, who subscribes where, items seen, and deliveries as an outbox.
-- Times are ISO 8601 UTC strings ("2026-11-27T12:00:00Z"), which sort as text.

CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,
    name                 TEXT,                       -- given by config or a moderator
    title                TEXT,                       -- the feed's own title, once parsed
    interval_minutes     INTEGER,                    -- NULL: [feeds] interval_minutes
    paused               INTEGER NOT NULL DEFAULT 0,
    paused_reason        TEXT,
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,                       -- sha256 of the last body parsed
    next_fetch_at        TEXT,
    last_fetch_at        TEXT,
    last_success_at      TEXT,
    last_error           TEXT,
    last_error_at        TEXT,
    failing_since        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT    NOT NULL
);

CREATE TABLE feed_subscriptions (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    platform      TEXT    NOT NULL,
    scope_id      TEXT    NOT NULL,
    channel_id    TEXT    NOT NULL,
    include_json  TEXT    NOT NULL DEFAULT '[]',
    exclude_json  TEXT    NOT NULL DEFAULT '[]',
    latest        INTEGER NOT NULL DEFAULT 0,        -- items to post on first sight
    mention_role  TEXT,
    primed        INTEGER NOT NULL DEFAULT 0,        -- first sight done for this channel
    paused        INTEGER NOT NULL DEFAULT 0,        -- a moderator paused this channel's posts
    source        TEXT    NOT NULL DEFAULT 'command',  -- 'config' or 'command'
    created_by    TEXT,
    created_at    TEXT    NOT NULL,
    UNIQUE (feed_id, platform, scope_id, channel_id)
);

CREATE TABLE feed_items (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    item_key      TEXT    NOT NULL,   -- stable per feed: guid, else clean link, else hash
    story_key     TEXT    NOT NULL,   -- across feeds: clean link, else item_key
    raw_hash      TEXT    NOT NULL,   -- hash of the raw title+summary (skip re-rendering)
    content_hash  TEXT    NOT NULL,   -- hash of the rendered title+summary (updates)
    title         TEXT    NOT NULL,
    link          TEXT,
    summary       TEXT    NOT NULL,
    published     TEXT,
    first_seen_at TEXT    NOT NULL,
    updated_at    TEXT,
    UNIQUE (feed_id, item_key)
);
CREATE INDEX feed_items_story ON feed_items(feed_id, story_key);

-- The outbox. kind: 'post' (a new item), 'update' (an item changed after it was posted),
-- 'notice' (a message to moderators; its text is in body). Rendered at send time, so a
-- post still pending when its item changes goes out once, already up to date.
CREATE TABLE feed_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER REFERENCES feed_subscriptions(id) ON DELETE SET NULL,
    item_id         INTEGER REFERENCES feed_items(id) ON DELETE CASCADE,
    platform        TEXT    NOT NULL,
    scope_id        TEXT    NOT NULL,
    channel_id      TEXT    NOT NULL,
    story_key       TEXT,
    kind            TEXT    NOT NULL,
    body            TEXT,
    ping_role       TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    message_id      TEXT,
    nonce           TEXT    NOT NULL UNIQUE,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT
);
-- One post per story per channel, whichever feed brought it.
CREATE UNIQUE INDEX feed_deliveries_one_post
    ON feed_deliveries(platform, scope_id, channel_id, story_key) WHERE kind = 'post';
-- At most one pending update per story per channel (it renders the latest text anyway).
CREATE UNIQUE INDEX feed_deliveries_one_pending_update
    ON feed_deliveries(platform, scope_id, channel_id, story_key) WHERE kind = 'update' AND status = 'pending';
CREATE INDEX feed_deliveries_due ON feed_deliveries(status, next_attempt_at);
