-- The live registry addresses the monitor subscribes to (setpoint and readback of every live PV).
-- name: monitored_addresses
SELECT setpoint_address AS address FROM pv WHERE deleted_at IS NULL AND setpoint_address IS NOT NULL
UNION
SELECT readback_address FROM pv WHERE deleted_at IS NULL AND readback_address IS NOT NULL
