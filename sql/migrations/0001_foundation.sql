-- Registry, tags, API keys and the audit log.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- PVs are soft-deleted (deleted_at): snapshot values reference pv.id forever, so history is never erased.
CREATE TABLE pv (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    setpoint_address  text CHECK (setpoint_address IS NULL OR length(setpoint_address) BETWEEN 1 AND 255),
    readback_address  text CHECK (readback_address IS NULL OR length(readback_address) BETWEEN 1 AND 255),
    config_address    text CHECK (config_address IS NULL OR length(config_address) BETWEEN 1 AND 255),
    device            text CHECK (device IS NULL OR length(device) <= 255),
    description       text CHECK (description IS NULL OR length(description) <= 10000),
    abs_tolerance     double precision NOT NULL DEFAULT 0 CHECK (abs_tolerance >= 0),
    rel_tolerance     double precision NOT NULL DEFAULT 0 CHECK (rel_tolerance >= 0),
    read_only         boolean NOT NULL DEFAULT false,
    restore_order     integer NOT NULL DEFAULT 0,
    put_completion    boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text,
    updated_by        text,
    deleted_at        timestamptz,
    CONSTRAINT pv_has_address CHECK (
        setpoint_address IS NOT NULL OR readback_address IS NOT NULL OR config_address IS NOT NULL)
);
-- The sort key of every listing: setpoint address (NULLs last), then id.
CREATE UNIQUE INDEX pv_setpoint_address_key ON pv (setpoint_address) WHERE deleted_at IS NULL;
CREATE INDEX pv_order_idx ON pv ((coalesce(setpoint_address, readback_address, config_address)), id)
    WHERE deleted_at IS NULL;
CREATE INDEX pv_device_idx ON pv (device) WHERE deleted_at IS NULL;
-- One trigram index for every substring filter (pvName, q): three separate ones tripled the cost of
-- a 50K-row COPY. Queries test this expression first (index) and the exact columns after (recheck).
CREATE FUNCTION pv_search_text(sp text, rb text, cfg text, descr text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(sp, '') || E'\n' || coalesce(rb, '') || E'\n' || coalesce(cfg, '') || E'\n' || coalesce(descr, '');
CREATE INDEX pv_search_trgm ON pv
    USING gin (pv_search_text(setpoint_address, readback_address, config_address, description) gin_trgm_ops)
    WHERE deleted_at IS NULL;

CREATE TABLE tag_group (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    description  text CHECK (description IS NULL OR length(description) <= 10000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tag_group_name_key ON tag_group (lower(name));

CREATE TABLE tag (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id     uuid NOT NULL REFERENCES tag_group (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    description  text CHECK (description IS NULL OR length(description) <= 10000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tag_group_name_unique ON tag (group_id, lower(name));

CREATE TABLE pv_tag (
    pv_id   uuid NOT NULL REFERENCES pv (id) ON DELETE CASCADE,
    tag_id  uuid NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    PRIMARY KEY (pv_id, tag_id)
);
CREATE INDEX pv_tag_tag_idx ON pv_tag (tag_id);

CREATE TABLE api_key (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_name      text NOT NULL CHECK (length(btrim(app_name)) BETWEEN 1 AND 255),
    token_hash    bytea NOT NULL UNIQUE,
    scopes        text[] NOT NULL,
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE UNIQUE INDEX api_key_active_name_key ON api_key (lower(app_name)) WHERE is_active;

CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    text,
    summary        text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);
