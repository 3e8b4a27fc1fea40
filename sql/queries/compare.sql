-- Compare: what snapshot ↔ snapshot needs from PostgreSQL.

-- name: compare_snapshot_sides
-- Rows only one snapshot has, or whose value-only sides differ byte-wise, with each side's address and
-- the PV's tolerances. Equal bytes are equal values: those rows are matches and never leave the server.
SELECT uuid_send(coalesce(a.pv_id, b.pv_id)),
       a.setpoint_name, a.readback_name, b.setpoint_name, b.readback_name,
       a.setpoint_value, a.readback_value, b.setpoint_value, b.readback_value,
       a.pv_id IS NOT NULL, b.pv_id IS NOT NULL,
       coalesce(p.abs_tolerance, 0), coalesce(p.rel_tolerance, 0)
FROM (SELECT pv_id, setpoint_name, readback_name, setpoint_value, readback_value
      FROM snapshot_value WHERE snapshot_id = %(first)s) a
FULL JOIN (SELECT pv_id, setpoint_name, readback_name, setpoint_value, readback_value
           FROM snapshot_value WHERE snapshot_id = %(second)s) b ON b.pv_id = a.pv_id
LEFT JOIN pv p ON p.id = coalesce(a.pv_id, b.pv_id)
WHERE a.pv_id IS NULL OR b.pv_id IS NULL
   OR a.setpoint_value IS DISTINCT FROM b.setpoint_value OR a.readback_value IS DISTINCT FROM b.readback_value
