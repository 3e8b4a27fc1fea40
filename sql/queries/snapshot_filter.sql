-- name: snapshot_values_filtered
-- GET /v1/snapshots/{id} with filters: q is a literal case-insensitive substring of either stored address
-- (strpos: no wildcards); devices and tags come from the registry row (a deleted PV matches neither).
-- `matched` counts every selected row before LIMIT/OFFSET (a NULL limit: all of them).
SELECT sv.pv_id::text, sv.setpoint_name, sv.readback_name, sv.setpoint, sv.readback, count(*) OVER () AS matched
FROM snapshot_value sv
LEFT JOIN pv p ON p.id = sv.pv_id
WHERE sv.snapshot_id = %(id)s
  AND (%(q)s::text IS NULL
       OR strpos(lower(coalesce(sv.setpoint_name, '')), lower(%(q)s::text)) > 0
       OR strpos(lower(coalesce(sv.readback_name, '')), lower(%(q)s::text)) > 0)
  AND (%(devices)s::text[] IS NULL OR p.device = ANY(%(devices)s::text[]))
  AND (%(tags)s::uuid[] IS NULL
       OR EXISTS (SELECT 1 FROM pv_tag pt WHERE pt.pv_id = sv.pv_id AND pt.tag_id = ANY(%(tags)s::uuid[])))
ORDER BY sv.idx
LIMIT %(limit)s OFFSET %(offset)s

-- name: snapshot_value_tags_of
SELECT pt.pv_id::text, t.id, t.name, t.description, g.id AS group_id, g.name AS group_name
FROM pv_tag pt
JOIN tag t ON t.id = pt.tag_id
JOIN tag_group g ON g.id = t.group_id
WHERE pt.pv_id = ANY(%(pv_ids)s::uuid[])
ORDER BY g.name, t.name

-- name: snapshot_values_filtered_count
SELECT count(*)
FROM snapshot_value sv
LEFT JOIN pv p ON p.id = sv.pv_id
WHERE sv.snapshot_id = %(id)s
  AND (%(q)s::text IS NULL
       OR strpos(lower(coalesce(sv.setpoint_name, '')), lower(%(q)s::text)) > 0
       OR strpos(lower(coalesce(sv.readback_name, '')), lower(%(q)s::text)) > 0)
  AND (%(devices)s::text[] IS NULL OR p.device = ANY(%(devices)s::text[]))
  AND (%(tags)s::uuid[] IS NULL
       OR EXISTS (SELECT 1 FROM pv_tag pt WHERE pt.pv_id = sv.pv_id AND pt.tag_id = ANY(%(tags)s::uuid[])))
