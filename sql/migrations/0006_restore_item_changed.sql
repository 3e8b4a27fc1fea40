-- Restore reports how many PVs it really changed: whether a written PV's live value differed from its
-- target is recorded with its outcome, so a retried attempt still counts the writes an earlier one did.
-- Rows recorded before this column existed cannot tell: they count as changed.
ALTER TABLE restore_item ADD COLUMN changed boolean NOT NULL DEFAULT true;
