-- Exactly once across restarts (issue 11).
-- A delivery is marked in flight just before the platform is called and cleared when its
-- outcome is recorded. One still marked at start was cut off mid-send (kill -9, power loss):
-- it is retried at once as "unsure", which Discord settles by its message nonce and Slack by
-- looking for the nonce in the channel's recent history, so it is posted once.
ALTER TABLE feed_deliveries ADD COLUMN sending_at TEXT;
CREATE INDEX feed_deliveries_in_flight ON feed_deliveries(sending_at) WHERE sending_at IS NOT NULL;

-- The same for a report's announcement to the moderators (announce_status 'sending').
ALTER TABLE reports ADD COLUMN announce_sending_at TEXT;

-- The parent's receipt ("Thank you, report #N is with the moderators"): pending from the
-- moment the report is stored until the adapter has delivered the answer. One still pending
-- after a crash is sent privately when the platform's adapter next connects.
ALTER TABLE reports ADD COLUMN receipt_pending INTEGER NOT NULL DEFAULT 0;

-- Messages to remove (a parent's public !report, which may hold a phone number): recorded
-- before the delete is tried, cleared when it is done, retried as soon as the platform's
-- adapter is connected again after a crash.
CREATE TABLE pending_deletes (
    id          INTEGER PRIMARY KEY,
    platform    TEXT    NOT NULL,
    scope_id    TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT    NOT NULL,
    UNIQUE (platform, channel_id, message_id)
);
