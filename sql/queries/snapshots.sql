-- name: insert_snapshot
INSERT INTO snapshot (id, job_id, title, description, comment, labels, created_by, source, pv_count,
                      missing_disconnected, missing_no_value, stale_count)
VALUES (%(id)s, %(job_id)s, %(title)s, %(description)s, %(comment)s, %(labels)s, %(created_by)s, %(source)s,
        %(pv_count)s, %(missing_disconnected)s, %(missing_no_value)s, %(stale_count)s)
RETURNING id, title, description, comment, labels, created_at, created_by, pv_count, source,
       missing_disconnected, missing_no_value, stale_count

-- name: copy_snapshot_values
COPY snapshot_value (snapshot_id, idx, pv_id, setpoint_name, readback_name, setpoint, setpoint_value, readback,
                    readback_value)
FROM STDIN (FORMAT BINARY)

-- name: set_snapshot_tags
UPDATE snapshot SET tag_ids = coalesce(
    (SELECT array_agg(DISTINCT pt.tag_id)
     FROM pv_tag pt WHERE pt.pv_id IN (SELECT pv_id FROM snapshot_value WHERE snapshot_id = %(id)s)), '{}')
WHERE id = %(id)s

-- name: snapshot_by_job
SELECT id, title, description, comment, labels, created_at, created_by, pv_count, source,
       missing_disconnected, missing_no_value, stale_count
FROM snapshot WHERE job_id = %(job_id)s

-- name: get_snapshot
SELECT id, title, description, comment, labels, created_at, created_by, pv_count, source,
       missing_disconnected, missing_no_value, stale_count
FROM snapshot WHERE id = %(id)s

-- name: get_snapshot_for_update
SELECT id, title, description, comment, labels, created_at, created_by, pv_count, source,
       missing_disconnected, missing_no_value, stale_count
FROM snapshot WHERE id = %(id)s FOR UPDATE

-- name: list_snapshots
SELECT id, title, description, comment, labels, created_at, created_by, pv_count, source,
       missing_disconnected, missing_no_value, stale_count
FROM snapshot
-- title: a literal, case-insensitive substring (strpos: no wildcard characters)
WHERE (%(title)s::text IS NULL OR strpos(lower(title), lower(%(title)s::text)) > 0)
  AND (%(tags)s::uuid[] IS NULL OR tag_ids && %(tags)s::uuid[])
  AND (%(labels)s::text[] IS NULL OR labels && %(labels)s::text[])
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: snapshot_values
SELECT pv_id, setpoint_name, readback_name, setpoint, readback
FROM snapshot_value
WHERE snapshot_id = %(id)s AND idx >= %(start)s AND idx < %(stop)s
ORDER BY idx

-- name: snapshot_values_text
SELECT pv_id::text, setpoint_name, readback_name, setpoint, readback
FROM snapshot_value
WHERE snapshot_id = %(id)s AND idx >= %(start)s AND idx < %(stop)s
ORDER BY idx

-- name: snapshot_value_tags
SELECT pt.pv_id::text, t.id, t.name, t.description, g.id AS group_id, g.name AS group_name
FROM snapshot_value sv
JOIN pv_tag pt ON pt.pv_id = sv.pv_id
JOIN tag t ON t.id = pt.tag_id
JOIN tag_group g ON g.id = t.group_id
WHERE sv.snapshot_id = %(id)s AND sv.idx >= %(start)s AND sv.idx < %(stop)s
ORDER BY g.name, t.name

-- name: update_snapshot
UPDATE snapshot SET title = %(title)s, description = %(description)s, comment = %(comment)s, labels = %(labels)s
WHERE id = %(id)s
RETURNING id, title, description, comment, labels, created_at, created_by, pv_count, source,
       missing_disconnected, missing_no_value, stale_count

-- name: delete_snapshot
-- snapshot_value has no foreign key (cheaper COPY): its rows go in the same statement.
WITH gone AS (DELETE FROM snapshot_value WHERE snapshot_id = %(id)s)
DELETE FROM snapshot WHERE id = %(id)s

-- name: pv_tolerances
SELECT id, abs_tolerance, rel_tolerance, read_only FROM pv WHERE id = ANY(%(ids)s::uuid[])

-- name: select_snapshot_pvs
-- Raw 16-byte ids (uuid_send): rows go straight into the binary COPY without UUID objects.
SELECT uuid_send(p.id) AS pv_key, p.setpoint_address, p.readback_address
FROM pv p
WHERE p.deleted_at IS NULL
  AND (p.setpoint_address IS NOT NULL OR p.readback_address IS NOT NULL)
  AND ((%(pv_ids)s::uuid[] IS NULL AND %(tag_ids)s::uuid[] IS NULL)
       OR p.id = ANY(%(pv_ids)s::uuid[])
       OR EXISTS (SELECT 1 FROM pv_tag pt WHERE pt.pv_id = p.id AND pt.tag_id = ANY(%(tag_ids)s::uuid[])))
-- The registry's order index (pv_order_idx) yields this order without a sort (config_address never
-- decides: every row here has a setpoint or readback address).
ORDER BY coalesce(p.setpoint_address, p.readback_address, p.config_address), p.id

-- name: snapshot_value_sides
SELECT uuid_send(pv_id), setpoint_name, readback_name, setpoint_value, readback_value
FROM snapshot_value
WHERE snapshot_id = %(id)s
ORDER BY idx

-- name: snapshot_pv_counts
SELECT id, pv_count FROM snapshot WHERE id = ANY(%(ids)s::uuid[])

-- name: snapshot_tolerances
-- Only non-zero tolerances: a PV not listed compares exactly.
SELECT uuid_send(p.id), p.abs_tolerance, p.rel_tolerance
FROM pv p
WHERE (p.abs_tolerance > 0 OR p.rel_tolerance > 0)
  AND p.id IN (SELECT pv_id FROM snapshot_value WHERE snapshot_id = %(id)s)

-- name: known_tag_ids
SELECT id FROM tag WHERE id = ANY(%(ids)s::uuid[])
