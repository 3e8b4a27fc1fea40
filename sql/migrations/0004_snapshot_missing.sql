-- What a snapshot really holds (API.md §Snapshots): how many of its PVs were saved without a value,
-- and why; and the warnings a finished job carries. Snapshots taken before this migration count 0.
ALTER TABLE snapshot
    -- PVs with a side saved without a value because there was no connection at capture.
    ADD COLUMN missing_disconnected integer NOT NULL DEFAULT 0 CHECK (missing_disconnected >= 0),
    -- PVs connected at capture whose value never came (e.g. a frozen IOC), and none disconnected.
    ADD COLUMN missing_no_value integer NOT NULL DEFAULT 0 CHECK (missing_no_value >= 0),
    -- PVs with a value older than SQUIRREL_STALE_MAX_AGE when it was taken (they are not missing).
    ADD COLUMN stale_count integer NOT NULL DEFAULT 0 CHECK (stale_count >= 0);

ALTER TABLE job ADD COLUMN warnings text[] NOT NULL DEFAULT '{}';
