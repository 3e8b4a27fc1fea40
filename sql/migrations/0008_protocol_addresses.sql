-- Protocol-prefixed addresses (ca://NAME, pva://NAME). The *_address columns hold the channel key
-- (bare name for Channel Access, pva://NAME for PVAccess), so the protocol is stored explicitly and the
-- unique index on setpoint_address makes FOO and ca://FOO the same PV. The *_written columns keep the
-- address as written at registration when it differs from its key (NULL otherwise): answers and exports
-- show coalesce(written, key).
ALTER TABLE pv ADD COLUMN setpoint_written text CHECK (setpoint_written IS NULL OR length(setpoint_written) BETWEEN 1 AND 255),
               ADD COLUMN readback_written text CHECK (readback_written IS NULL OR length(readback_written) BETWEEN 1 AND 255),
               ADD COLUMN config_written   text CHECK (config_written IS NULL OR length(config_written) BETWEEN 1 AND 255);
