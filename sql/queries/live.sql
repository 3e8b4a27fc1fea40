-- Live values: resolve a subscriber's tag selection to the monitored addresses of its PVs.

-- name: live_existing_tags
SELECT id FROM tag WHERE id = ANY(%(tag_ids)s::uuid[]);

-- name: live_addresses_for_tags
SELECT DISTINCT a.address
FROM pv_tag pt
JOIN pv ON pv.id = pt.pv_id AND pv.deleted_at IS NULL
CROSS JOIN LATERAL (VALUES (pv.setpoint_address), (pv.readback_address)) AS a (address)
WHERE pt.tag_id = ANY(%(tag_ids)s::uuid[]) AND a.address IS NOT NULL;
