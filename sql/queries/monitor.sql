-- Every live PV with the addresses the monitor watches (a full resync).
-- name: monitored_rows
SELECT id::text, setpoint_address, readback_address FROM pv
WHERE deleted_at IS NULL AND (setpoint_address IS NOT NULL OR readback_address IS NOT NULL)

-- The current rows of PVs a registry notification named (absent = deleted or gone).
-- name: monitored_rows_by_id
SELECT id::text, setpoint_address, readback_address FROM pv
WHERE id = ANY(%(ids)s::uuid[]) AND deleted_at IS NULL
