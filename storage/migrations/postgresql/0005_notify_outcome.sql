-- PostgreSQL's version of migration 0005 (see ../0005_notify_outcome.sql).
ALTER TABLE reports ADD COLUMN notify_outcome INTEGER NOT NULL DEFAULT 0;
