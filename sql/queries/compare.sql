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

-- name: compare_aligned_sides
-- The same rows as compare_snapshot_sides, for two snapshots of (nearly) the same registry. Rows are
-- stored in PV-name order, so such snapshots hold each PV at the same idx: a merge join along both
-- primary keys pairs them without hashing a whole snapshot (that hash made compare grow 5-6x for 4x
-- the PVs). Rows whose PV differs at an idx (PVs added, removed or renamed) are paired by PV id after.
WITH by_idx AS MATERIALIZED (
    SELECT a.pv_id AS id1, b.pv_id AS id2,
           a.setpoint_name AS sp_n1, a.readback_name AS rb_n1, b.setpoint_name AS sp_n2, b.readback_name AS rb_n2,
           a.setpoint_value AS sp1, a.readback_value AS rb1, b.setpoint_value AS sp2, b.readback_value AS rb2
    FROM (SELECT idx, pv_id, setpoint_name, readback_name, setpoint_value, readback_value
          FROM snapshot_value WHERE snapshot_id = %(first)s) a
    FULL JOIN (SELECT idx, pv_id, setpoint_name, readback_name, setpoint_value, readback_value
               FROM snapshot_value WHERE snapshot_id = %(second)s) b ON b.idx = a.idx
    WHERE a.pv_id IS DISTINCT FROM b.pv_id
       OR a.setpoint_value IS DISTINCT FROM b.setpoint_value OR a.readback_value IS DISTINCT FROM b.readback_value
), sides AS (
    SELECT id1 AS id, sp_n1, rb_n1, sp_n2, rb_n2, sp1, rb1, sp2, rb2, true AS in1, true AS in2
    FROM by_idx WHERE id1 = id2
    UNION ALL
    SELECT coalesce(a.id1, b.id2), a.sp_n1, a.rb_n1, b.sp_n2, b.rb_n2, a.sp1, a.rb1, b.sp2, b.rb2,
           a.id1 IS NOT NULL, b.id2 IS NOT NULL
    FROM (SELECT id1, sp_n1, rb_n1, sp1, rb1 FROM by_idx WHERE id1 IS NOT NULL AND id1 IS DISTINCT FROM id2) a
    FULL JOIN (SELECT id2, sp_n2, rb_n2, sp2, rb2 FROM by_idx WHERE id2 IS NOT NULL AND id2 IS DISTINCT FROM id1) b
        ON b.id2 = a.id1
    WHERE a.id1 IS NULL OR b.id2 IS NULL OR a.sp1 IS DISTINCT FROM b.sp2 OR a.rb1 IS DISTINCT FROM b.rb2
)
-- Tolerances by one look-up of the pv key per differing row: with hash joins off (see squirrel.db.compare)
-- a plain join with pv could become a merge over the whole registry; LIMIT keeps the planner from
-- turning this subquery into such a join.
SELECT uuid_send(s.id), s.sp_n1, s.rb_n1, s.sp_n2, s.rb_n2, s.sp1, s.rb1, s.sp2, s.rb2, s.in1, s.in2,
       coalesce(p.abs_tolerance, 0), coalesce(p.rel_tolerance, 0)
FROM sides s
LEFT JOIN LATERAL (SELECT abs_tolerance, rel_tolerance FROM pv WHERE pv.id = s.id LIMIT 1) p ON true

-- name: compare_alignment_probe
-- How many of the given idx positions hold the same PV in both snapshots.
SELECT count(*)
FROM snapshot_value a
JOIN snapshot_value b ON b.snapshot_id = %(second)s AND b.idx = a.idx AND b.pv_id = a.pv_id
WHERE a.snapshot_id = %(first)s AND a.idx = ANY(%(probes)s::int[])
