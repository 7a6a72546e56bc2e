-- PostgreSQL's version of migration 0010 (see ../0010_claims.sql: deliveries and feed fetches
-- claimed by one instance, leases for singleton jobs, the shared rate budget).
ALTER TABLE feed_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE feed_deliveries ADD COLUMN claim_until TEXT;
CREATE INDEX feed_deliveries_claimed ON feed_deliveries(claimed_by) WHERE claimed_by IS NOT NULL;

ALTER TABLE feeds ADD COLUMN lease_by TEXT;
ALTER TABLE feeds ADD COLUMN lease_until TEXT;

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    held_until TEXT NOT NULL
);

CREATE TABLE rate_budget (
    key     TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
