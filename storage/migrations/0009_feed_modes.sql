-- Feeds as forums want them (issue 17): a picture per item, digests and quiet hours.
-- Portable SQL (ALTER TABLE ... ADD COLUMN, partial indexes): the PostgreSQL port runs it as is.

-- An item's picture (https, public host: feeds/images.py), kept with its text while a post waits.
ALTER TABLE feed_item_texts ADD COLUMN image_url TEXT;

-- How a subscription posts: 'each' (every item as it comes) or 'digest' (one message at
-- digest_at, local time, every 'day' or every 'week' on digest_day, 0 = Monday), and its
-- quiet hours ('21:00-07:00', local time; NULL = none): posts due then wait until after.
ALTER TABLE feed_subscriptions ADD COLUMN mode TEXT NOT NULL DEFAULT 'each';
ALTER TABLE feed_subscriptions ADD COLUMN digest_at TEXT NOT NULL DEFAULT '18:00';
ALTER TABLE feed_subscriptions ADD COLUMN digest_every TEXT NOT NULL DEFAULT 'day';
ALTER TABLE feed_subscriptions ADD COLUMN digest_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feed_subscriptions ADD COLUMN quiet_hours TEXT;

-- A post held back (held = 'quiet' or 'digest'; next_attempt_at is when it is due). When
-- several go out together they are gathered into one 'roundup' delivery: each member
-- points at it (roundup_id) and is marked sent in the same transaction as the round-up.
ALTER TABLE feed_deliveries ADD COLUMN held TEXT;
ALTER TABLE feed_deliveries ADD COLUMN roundup_id INTEGER;
CREATE INDEX feed_deliveries_held ON feed_deliveries(subscription_id, next_attempt_at)
    WHERE held IS NOT NULL AND status = 'pending';
CREATE INDEX feed_deliveries_roundup ON feed_deliveries(roundup_id) WHERE roundup_id IS NOT NULL;
