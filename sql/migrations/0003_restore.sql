-- Restore bookkeeping: per-job state that makes a retried restore resume instead of repeating writes.

-- One row per restore job: the backup taken before the first write (so a retry does not take another
-- one of already-restored values).
CREATE TABLE restore_run (
    job_id              uuid PRIMARY KEY REFERENCES job (id) ON DELETE CASCADE,
    snapshot_id         uuid NOT NULL,
    backup_snapshot_id  uuid,
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- Completed per-PV outcomes, written (COPY) as each stage completes. A retried attempt skips these PVs.
CREATE TABLE restore_item (
    job_id   uuid NOT NULL REFERENCES restore_run (job_id) ON DELETE CASCADE,
    pv_id    uuid NOT NULL,
    outcome  text NOT NULL,
    error    text,
    PRIMARY KEY (job_id, pv_id)
);
