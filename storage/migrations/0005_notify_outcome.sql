-- Closing the loop (issue 14): a parent who asked to be told what happens to their report
-- (`notify=yes` on !report, or the button on the receipt) gets a private message when a
-- moderator resolves, dismisses or corrects it. Cleared with the rest of the report's
-- personal data when it is erased (forgetme, purge-user, retention).
ALTER TABLE reports ADD COLUMN notify_outcome INTEGER NOT NULL DEFAULT 0;
