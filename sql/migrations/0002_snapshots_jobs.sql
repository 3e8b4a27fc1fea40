-- Snapshots and their values, the job record the API serves, and snapshot schedules.

-- The job record. SAQ (saq_jobs, created by SAQ itself) only carries dispatch; this table is the history.
CREATE TABLE job (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type          text NOT NULL CHECK (type IN ('snapshot_create', 'snapshot_restore')),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    progress      smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    message       text NOT NULL DEFAULT '',
    result_id     uuid,
    error         text,
    job_data      jsonb NOT NULL DEFAULT '{}',
    result        jsonb,
    checkpoint    jsonb,
    -- Domain key (e.g. schedule:<id>:<time>): enqueueing the same key twice yields the same job.
    key           text UNIQUE,
    saq_key       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    completed_at  timestamptz,
    created_by    text NOT NULL,
    attempt       integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 3
);
CREATE INDEX job_created_idx ON job (created_at DESC);
CREATE INDEX job_active_idx ON job (status) WHERE status IN ('pending', 'running');
CREATE INDEX job_completed_idx ON job (completed_at) WHERE completed_at IS NOT NULL;
-- At most one restore queued or running at a time: a second enqueue is a unique violation (409).
CREATE UNIQUE INDEX job_one_active_restore ON job (type)
    WHERE type = 'snapshot_restore' AND status IN ('pending', 'running');

CREATE TABLE snapshot (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The job that took it: unique, so a retried or recovered job can never write a second snapshot.
    job_id       uuid UNIQUE,
    title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 255),
    description  text CHECK (description IS NULL OR length(description) <= 10000),
    comment      text CHECK (comment IS NULL OR length(comment) <= 10000),
    labels       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    source       text NOT NULL CHECK (source IN ('cache', 'direct', 'import')),
    -- Stored so listing never counts values.
    pv_count     integer NOT NULL,
    -- Tags carried by the snapshot's PVs when it was taken (the `tags` list filter).
    tag_ids      uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX snapshot_created_idx ON snapshot (created_at DESC, id DESC);
CREATE INDEX snapshot_labels_idx ON snapshot USING gin (labels);
CREATE INDEX snapshot_tags_idx ON snapshot USING gin (tag_ids);

-- One row per PV, `idx` = position in PV-name order (paging is a range on the primary key).
-- pv_id has no foreign key: history outlives registry rows, and imports may name foreign PVs.
-- snapshot_id has no foreign key either: its per-row check made a 50K-row COPY 2.3x slower. Rows are
-- written only with their snapshot row in one transaction, and delete_snapshot removes both.
-- setpoint/readback: msgpack of one side (value, type, enum index, alarm, EPICS ns time, metadata).
-- setpoint_value/readback_value: msgpack [value, enum index] of the same side, NULL when it is.
-- Compare joins on these: equal bytes are equal values, so only differing rows reach Python.
CREATE TABLE snapshot_value (
    snapshot_id     uuid NOT NULL,
    idx             integer NOT NULL,
    pv_id           uuid NOT NULL,
    setpoint_name   text,
    readback_name   text,
    setpoint        bytea,
    readback        bytea,
    setpoint_value  bytea,
    readback_value  bytea,
    PRIMARY KEY (snapshot_id, idx)
);

CREATE TABLE schedule (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    cron         text NOT NULL,
    timezone     text NOT NULL DEFAULT 'UTC',
    title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 255),
    description  text CHECK (description IS NULL OR length(description) <= 10000),
    pv_ids       uuid[],
    tag_ids      uuid[],
    use_cache    boolean NOT NULL DEFAULT true,
    enabled      boolean NOT NULL DEFAULT true,
    last_run_at  timestamptz,
    next_run_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL
);
CREATE UNIQUE INDEX schedule_name_key ON schedule (lower(name));
CREATE INDEX schedule_due_idx ON schedule (next_run_at) WHERE enabled;
