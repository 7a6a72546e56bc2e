-- Misinformation reports (issue 5). Times are UTC ISO-8601 strings written by the bot's
-- clock ("YYYY-MM-DDTHH:MM:SSZ"), so they sort and compare as text. Personal data columns
-- are nullable: forgetting a report or retention clears them and keeps the anonymous rest
-- (number, dates, status, tags, source category) for the moderators' counts.
CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    platform            TEXT    NOT NULL,
    scope_id            TEXT    NOT NULL,
    kind                TEXT    NOT NULL CHECK (kind IN ('told', 'message')),
    source              TEXT    CHECK (source IN ('school', 'LA', 'health', 'other')),
    status              TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at          TEXT    NOT NULL,
    -- What the parent was told (or the reported message), after redaction. NULL once deleted.
    text                TEXT,
    redactions          INTEGER NOT NULL DEFAULT 0,
    -- Who reported it: kept only so they can list and delete their own reports.
    reporter_id         TEXT,
    -- Where it was reported (or where the reported message was): the correction goes there.
    channel_id          TEXT    NOT NULL,
    channel_name        TEXT    NOT NULL DEFAULT '',
    channel_is_direct   INTEGER NOT NULL DEFAULT 0,
    -- For a reported message only.
    message_id          TEXT,
    message_link        TEXT,
    message_author_id   TEXT,
    message_author_name TEXT,
    -- The moderators' announcement: pending | sent | failed | unrouted (no channel configured).
    announce_status     TEXT    NOT NULL DEFAULT 'pending',
    announce_attempts   INTEGER NOT NULL DEFAULT 0,
    announce_message_id TEXT,
    closed_at           TEXT,
    resolution          TEXT,
    corrected_at        TEXT,
    correction_topic    TEXT,
    correction_message_id TEXT,
    -- Set when the text was removed: 'forgotten' (reporter asked), 'purged' (moderator), 'retention'.
    erased              TEXT,
    erased_at           TEXT
);
CREATE INDEX reports_scope_status ON reports(platform, scope_id, status, id);
CREATE INDEX reports_reporter ON reports(platform, reporter_id, created_at);
CREATE INDEX reports_closed ON reports(closed_at) WHERE text IS NOT NULL;
CREATE INDEX reports_message ON reports(platform, message_id) WHERE message_id IS NOT NULL;

CREATE TABLE report_tags (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    tag       TEXT    NOT NULL,
    PRIMARY KEY (report_id, tag)
) WITHOUT ROWID;
CREATE INDEX report_tags_tag ON report_tags(tag);

CREATE TABLE report_notes (
    id             INTEGER PRIMARY KEY,
    report_id      INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    at             TEXT    NOT NULL,
    moderator_id   TEXT    NOT NULL,
    moderator_name TEXT    NOT NULL,
    text           TEXT    NOT NULL
);
CREATE INDEX report_notes_report ON report_notes(report_id, id);
