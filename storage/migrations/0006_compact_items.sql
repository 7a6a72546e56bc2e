-- A database that stays small (issue 13 part 4).
--
-- What dedup needs of an item is kept, compactly, in feed_items: its item and story keys as
-- 48-bit integers (hash64() >> 16, storage/db.py: only equality matters, 6 bytes each), its
-- raw and content hashes as 32-bit ones (hash64 >> 32: a collision could only hide one edit),
-- and when it left the feed (gone_at). Its text (title, link, summary, dates) lives in
-- feed_item_texts, only while a delivery of it is pending: deliveries are rendered when
-- sent, and an update is rendered from the text of the fetch that changed it. An item gone
-- from its feed for longer than the window is forgotten with its deliveries
-- (storage/feeds/items.py).
--
-- A delivery names its (channel, story) by post_key = hash64(platform, scope, channel and
-- story_id joined by char(31)): one integer for "one post per story per channel". A sent
-- delivery keeps only what dedup and edits need (item, post_key, kind, status, message id);
-- its subscription, channel, times and nonce are cleared. Posts sent are counted on the
-- subscription (posts_sent), so `!feeds status` reads no history.
--
-- feed_items is rebuilt (its columns change) and feed_deliveries refers to it, so the
-- deliveries (and the texts to keep) wait in plain copies while feed_items is replaced:
-- dropping a table that is still referred to would cascade into its children.
-- vacuum-after

CREATE TABLE _deliveries_copy AS SELECT * FROM feed_deliveries;
CREATE INDEX _deliveries_copy_item ON _deliveries_copy(item_id, status);
DROP TABLE feed_deliveries;

ALTER TABLE feed_subscriptions ADD COLUMN posts_sent INTEGER NOT NULL DEFAULT 0;
UPDATE feed_subscriptions SET posts_sent = (
    SELECT COUNT(*) FROM _deliveries_copy d
    WHERE d.subscription_id = feed_subscriptions.id AND d.kind = 'post' AND d.status = 'sent');
-- `!feeds list` and `!feeds status`: a server's subscriptions.
CREATE INDEX feed_subscriptions_scope ON feed_subscriptions(platform, scope_id);

-- The text of items a pending delivery will render.
CREATE TABLE _texts_copy AS
SELECT i.id AS item_id, i.title, i.link, i.summary, i.published, i.first_seen_at, i.updated_at
FROM feed_items i WHERE i.id IN (SELECT item_id FROM _deliveries_copy WHERE status = 'pending');

CREATE TABLE feed_items_new (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    key_id        INTEGER NOT NULL,   -- hash64(item key) >> 16: stable per feed
    story_id      INTEGER NOT NULL,   -- hash64(story key) >> 16: across feeds
    raw_hash      INTEGER NOT NULL,   -- hash64(raw hash) >> 32 (skip re-rendering)
    content_hash  INTEGER NOT NULL,   -- hash64(content hash) >> 32 (what counts as a change)
    gone_at       INTEGER             -- Unix seconds of the first fetch without it; NULL while listed
);
INSERT INTO feed_items_new(id, feed_id, key_id, story_id, raw_hash, content_hash, gone_at)
SELECT id, feed_id, hash64(item_key) >> 16, hash64(story_key) >> 16, hash64(raw_hash) >> 32,
       hash64(content_hash) >> 32, NULL
FROM feed_items;
DROP TABLE feed_items;
ALTER TABLE feed_items_new RENAME TO feed_items;
CREATE UNIQUE INDEX feed_items_key ON feed_items(feed_id, key_id);
CREATE INDEX feed_items_story ON feed_items(feed_id, story_id);
-- What the feed lists now (gone_at NULL) and what is due to be forgotten.
CREATE INDEX feed_items_gone ON feed_items(feed_id, gone_at);

CREATE TABLE feed_item_texts (
    item_id       INTEGER PRIMARY KEY REFERENCES feed_items(id) ON DELETE CASCADE,
    title         TEXT    NOT NULL,
    link          TEXT,
    summary       TEXT    NOT NULL,
    published     TEXT,
    first_seen_at TEXT,
    updated_at    TEXT                -- when its text last changed
);
INSERT INTO feed_item_texts SELECT * FROM _texts_copy;
DROP TABLE _texts_copy;

CREATE TABLE feed_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER REFERENCES feed_subscriptions(id) ON DELETE SET NULL,  -- NULL once sent
    item_id         INTEGER REFERENCES feed_items(id) ON DELETE CASCADE,
    -- The channel; NULL once sent (post_key still names it).
    platform        TEXT,
    scope_id        TEXT,
    channel_id      TEXT,
    post_key        INTEGER,          -- hash64 of channel and story_id (see above); NULL for notices
    kind            TEXT    NOT NULL, -- post | update | notice
    body            TEXT,             -- a notice's text
    ping_role       TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,             -- NULL once settled (sent or failed)
    last_error      TEXT,
    message_id      TEXT,
    nonce           TEXT,             -- NULL once settled
    created_at      TEXT,             -- NULL once sent
    sending_at      TEXT
);
INSERT INTO feed_deliveries(id, subscription_id, item_id, platform, scope_id, channel_id, post_key, kind, body,
                            ping_role, status, attempts, next_attempt_at, last_error, message_id, nonce,
                            created_at, sending_at)
SELECT id,
       CASE WHEN status = 'sent' THEN NULL ELSE subscription_id END,
       item_id,
       CASE WHEN status = 'sent' THEN NULL ELSE platform END,
       CASE WHEN status = 'sent' THEN NULL ELSE scope_id END,
       CASE WHEN status = 'sent' THEN NULL ELSE channel_id END,
       CASE WHEN story_key IS NULL THEN NULL
            ELSE hash64(platform || char(31) || scope_id || char(31) || channel_id || char(31)
                        || (hash64(story_key) >> 16))
       END,
       kind,
       CASE WHEN status = 'sent' THEN NULL ELSE body END,
       CASE WHEN status = 'sent' THEN NULL ELSE ping_role END,
       status, attempts,
       CASE WHEN status = 'pending' THEN next_attempt_at END,
       last_error, message_id,
       CASE WHEN status = 'pending' THEN nonce END,
       CASE WHEN status = 'sent' THEN NULL ELSE created_at END,
       sending_at
FROM _deliveries_copy;
DROP TABLE _deliveries_copy;
-- One post per story per channel, whichever feed brought it.
CREATE UNIQUE INDEX feed_deliveries_one_post ON feed_deliveries(post_key) WHERE kind = 'post';
-- At most one pending update per story per channel (it renders the latest text anyway).
CREATE UNIQUE INDEX feed_deliveries_one_pending_update
    ON feed_deliveries(post_key) WHERE kind = 'update' AND status = 'pending';
CREATE INDEX feed_deliveries_due ON feed_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE UNIQUE INDEX feed_deliveries_nonce ON feed_deliveries(nonce) WHERE nonce IS NOT NULL;
CREATE INDEX feed_deliveries_in_flight ON feed_deliveries(sending_at) WHERE sending_at IS NOT NULL;
-- Forgetting an item (its deliveries cascade) and "is a delivery of this item pending?".
CREATE INDEX feed_deliveries_item ON feed_deliveries(item_id);
-- Deliveries not yet sent, by subscription: its removal, and `!feeds status` (waiting, failed).
CREATE INDEX feed_deliveries_subscription ON feed_deliveries(subscription_id) WHERE subscription_id IS NOT NULL;
