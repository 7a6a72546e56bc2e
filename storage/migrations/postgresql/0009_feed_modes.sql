-- PostgreSQL's version of migration 0009 (see ../0009_feed_modes.sql): an item's picture,
-- digests and quiet hours per subscription, posts held back and gathered into round-ups.
ALTER TABLE feed_item_texts ADD COLUMN image_url TEXT;

ALTER TABLE feed_subscriptions ADD COLUMN mode TEXT NOT NULL DEFAULT 'each';
ALTER TABLE feed_subscriptions ADD COLUMN digest_at TEXT NOT NULL DEFAULT '18:00';
ALTER TABLE feed_subscriptions ADD COLUMN digest_every TEXT NOT NULL DEFAULT 'day';
ALTER TABLE feed_subscriptions ADD COLUMN digest_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feed_subscriptions ADD COLUMN quiet_hours TEXT;

ALTER TABLE feed_deliveries ADD COLUMN held TEXT;
ALTER TABLE feed_deliveries ADD COLUMN roundup_id BIGINT;
CREATE INDEX feed_deliveries_held ON feed_deliveries(subscription_id, next_attempt_at)
    WHERE held IS NOT NULL AND status = 'pending';
CREATE INDEX feed_deliveries_roundup ON feed_deliveries(roundup_id) WHERE roundup_id IS NOT NULL;
