-- PostgreSQL's version of migration 0010 (see ../0010_claims.sql, written portable): claims on
-- deliveries, fetch leases on feeds, singleton-job leases and the shared rate budget.
-- A delivery is claimed by one instance (storage/claims.py) before it is sent: `claimed_by`
-- is the instance's id, `claim_until` when the claim lapses unless renewed. An instance
-- killed mid-claim has its deliveries taken over once the lease has passed (still as unsure
-- when it had marked one in flight, so the platform's nonce check settles it).
ALTER TABLE feed_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE feed_deliveries ADD COLUMN claim_until TEXT;
CREATE INDEX feed_deliveries_claimed ON feed_deliveries(claimed_by) WHERE claimed_by IS NOT NULL;

-- A feed is fetched by one instance per interval: a lease on its row, taken before fetching.
ALTER TABLE feeds ADD COLUMN lease_by TEXT;
ALTER TABLE feeds ADD COLUMN lease_until TEXT;

-- Singleton jobs (report maintenance, announcement retries): one holder at a time.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    held_until TEXT NOT NULL
);

-- A rate shared by every instance using one bot token (GCRA: the next free slot, in
-- microseconds since the epoch). `key` is a hash of the token, never the token.
CREATE TABLE rate_budget (
    key     TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
