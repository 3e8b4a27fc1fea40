-- PV registry. Live rows have deleted_at IS NULL; the listing order is the pv_order_idx key:
-- coalesce(setpoint, readback, config) address, then id.

-- name: select_pvs_by_ids
-- Addresses as written at registration (the *_written columns; NULL when equal to the channel key).
SELECT p.id, coalesce(p.setpoint_written, p.setpoint_address) AS setpoint_address,
       coalesce(p.readback_written, p.readback_address) AS readback_address,
       coalesce(p.config_written, p.config_address) AS config_address, p.device, p.description,
       p.setpoint_address AS setpoint_key, p.readback_address AS readback_key, p.abs_tolerance, p.rel_tolerance,
       p.read_only, p.restore_order, p.put_completion,
       p.created_at, p.updated_at, p.created_by, p.updated_by,
       coalesce((SELECT json_agg(json_build_object('id', t.id, 'name', t.name, 'description', t.description,
                                                   'groupId', g.id, 'groupName', g.name) ORDER BY g.name, t.name)
                 FROM pv_tag pt JOIN tag t ON t.id = pt.tag_id JOIN tag_group g ON g.id = t.group_id
                 WHERE pt.pv_id = p.id), '[]'::json) AS tags
FROM pv p
WHERE p.id = ANY(%(ids)s::uuid[]) AND p.deleted_at IS NULL
ORDER BY coalesce(p.setpoint_address, p.readback_address, p.config_address), p.id

-- name: select_pv_for_update
SELECT id, coalesce(setpoint_written, setpoint_address) AS setpoint_address,
       coalesce(readback_written, readback_address) AS readback_address,
       coalesce(config_written, config_address) AS config_address, device, description, abs_tolerance,
       rel_tolerance, read_only, restore_order, put_completion,
       setpoint_address AS setpoint_key, readback_address AS readback_key, config_address AS config_key,
       setpoint_written, readback_written, config_written
FROM pv WHERE id = %(id)s AND deleted_at IS NULL
FOR UPDATE

-- name: page_pv_ids
-- Keyset page: pvName is an ILIKE pattern built with escaped wildcards; tag_filters is
-- {groupId: [tagId..]} (OR within a group, AND across groups).
SELECT p.id, coalesce(p.setpoint_address, p.readback_address, p.config_address) AS sort_name
FROM pv p
WHERE p.deleted_at IS NULL
  AND (%(pattern)s::text IS NULL OR pv_search_text(p.setpoint_address, p.readback_address, p.config_address,
       p.description) ILIKE %(pattern)s AND (p.setpoint_address ILIKE %(pattern)s OR p.readback_address ILIKE %(pattern)s
       OR p.config_address ILIKE %(pattern)s))
  AND (%(tag_filters)s::jsonb IS NULL OR NOT EXISTS (
        SELECT 1 FROM jsonb_each(%(tag_filters)s::jsonb) AS f(group_id, tag_ids)
        WHERE NOT EXISTS (
            SELECT 1 FROM pv_tag pt
            WHERE pt.pv_id = p.id
              AND pt.tag_id IN (SELECT x::uuid FROM jsonb_array_elements_text(f.tag_ids) AS x))))
  AND (%(after_name)s::text IS NULL
       OR (coalesce(p.setpoint_address, p.readback_address, p.config_address), p.id)
          > (%(after_name)s::text, %(after_id)s::uuid))
ORDER BY coalesce(p.setpoint_address, p.readback_address, p.config_address), p.id
LIMIT %(limit)s

-- name: count_pv_page
SELECT count(*)
FROM pv p
WHERE p.deleted_at IS NULL
  AND (%(pattern)s::text IS NULL OR pv_search_text(p.setpoint_address, p.readback_address, p.config_address,
       p.description) ILIKE %(pattern)s AND (p.setpoint_address ILIKE %(pattern)s OR p.readback_address ILIKE %(pattern)s
       OR p.config_address ILIKE %(pattern)s))
  AND (%(tag_filters)s::jsonb IS NULL OR NOT EXISTS (
        SELECT 1 FROM jsonb_each(%(tag_filters)s::jsonb) AS f(group_id, tag_ids)
        WHERE NOT EXISTS (
            SELECT 1 FROM pv_tag pt
            WHERE pt.pv_id = p.id
              AND pt.tag_id IN (SELECT x::uuid FROM jsonb_array_elements_text(f.tag_ids) AS x))))

-- name: search_pv_ids
-- q matches addresses and description literally (escaped ILIKE pattern); devices and tags are OR lists.
SELECT p.id, count(*) OVER () AS total
FROM pv p
WHERE p.deleted_at IS NULL
  AND (%(pattern)s::text IS NULL OR pv_search_text(p.setpoint_address, p.readback_address, p.config_address,
       p.description) ILIKE %(pattern)s AND (p.setpoint_address ILIKE %(pattern)s OR p.readback_address ILIKE %(pattern)s
       OR p.config_address ILIKE %(pattern)s OR p.description ILIKE %(pattern)s))
  AND (%(devices)s::text[] IS NULL OR p.device = ANY(%(devices)s::text[]))
  AND (%(tags)s::uuid[] IS NULL
       OR EXISTS (SELECT 1 FROM pv_tag pt WHERE pt.pv_id = p.id AND pt.tag_id = ANY(%(tags)s::uuid[])))
ORDER BY coalesce(p.setpoint_address, p.readback_address, p.config_address), p.id
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_pv_search
SELECT count(*)
FROM pv p
WHERE p.deleted_at IS NULL
  AND (%(pattern)s::text IS NULL OR pv_search_text(p.setpoint_address, p.readback_address, p.config_address,
       p.description) ILIKE %(pattern)s AND (p.setpoint_address ILIKE %(pattern)s OR p.readback_address ILIKE %(pattern)s
       OR p.config_address ILIKE %(pattern)s OR p.description ILIKE %(pattern)s))
  AND (%(devices)s::text[] IS NULL OR p.device = ANY(%(devices)s::text[]))
  AND (%(tags)s::uuid[] IS NULL
       OR EXISTS (SELECT 1 FROM pv_tag pt WHERE pt.pv_id = p.id AND pt.tag_id = ANY(%(tags)s::uuid[])))

-- name: list_devices
SELECT DISTINCT device FROM pv WHERE deleted_at IS NULL AND device IS NOT NULL ORDER BY device

-- name: existing_setpoints
SELECT setpoint_address FROM pv
WHERE deleted_at IS NULL AND setpoint_address = ANY(%(addresses)s::text[])
  AND (%(except_id)s::uuid IS NULL OR id <> %(except_id)s::uuid)
ORDER BY setpoint_address

-- name: tags_by_ids
SELECT t.id, t.name, t.description, g.id AS group_id, g.name AS group_name
FROM tag t JOIN tag_group g ON g.id = t.group_id
WHERE t.id = ANY(%(ids)s::uuid[])

-- name: copy_pvs
COPY pv (id, setpoint_address, readback_address, config_address, device, description, abs_tolerance,
         rel_tolerance, read_only, restore_order, put_completion, created_at, updated_at, created_by, updated_by,
         setpoint_written, readback_written, config_written)
FROM STDIN (FORMAT BINARY)

-- name: copy_pv_tags
COPY pv_tag (pv_id, tag_id) FROM STDIN (FORMAT BINARY)

-- name: transaction_now
SELECT now()

-- name: update_pv
UPDATE pv SET setpoint_address = %(setpoint_address)s, readback_address = %(readback_address)s,
    config_address = %(config_address)s, setpoint_written = %(setpoint_written)s,
    readback_written = %(readback_written)s, config_written = %(config_written)s, device = %(device)s, description = %(description)s,
    abs_tolerance = %(abs_tolerance)s, rel_tolerance = %(rel_tolerance)s, read_only = %(read_only)s,
    restore_order = %(restore_order)s, put_completion = %(put_completion)s,
    updated_at = now(), updated_by = %(updated_by)s
WHERE id = %(id)s AND deleted_at IS NULL

-- name: delete_pv_tags
DELETE FROM pv_tag WHERE pv_id = %(pv_id)s

-- name: insert_pv_tags
INSERT INTO pv_tag (pv_id, tag_id) SELECT %(pv_id)s, unnest(%(tag_ids)s::uuid[])

-- name: soft_delete_pv
UPDATE pv SET deleted_at = now(), updated_at = now(), updated_by = %(updated_by)s
WHERE id = %(id)s AND deleted_at IS NULL
RETURNING id, coalesce(setpoint_address, readback_address, config_address) AS name

-- name: export_pvs
SELECT coalesce(p.setpoint_written, p.setpoint_address) AS setpoint_address,
       coalesce(p.readback_written, p.readback_address) AS readback_address,
       coalesce(p.config_written, p.config_address) AS config_address, p.device, p.description, p.abs_tolerance,
       p.rel_tolerance, p.read_only, p.restore_order, p.put_completion,
       coalesce(array_agg(pt.tag_id ORDER BY pt.tag_id) FILTER (WHERE pt.tag_id IS NOT NULL), '{}') AS tag_ids
FROM pv p LEFT JOIN pv_tag pt ON pt.pv_id = p.id
WHERE p.deleted_at IS NULL
GROUP BY p.id
ORDER BY coalesce(p.setpoint_address, p.readback_address, p.config_address), p.id

-- name: notify_registry
SELECT pg_notify('squirrel_registry', '')

-- name: select_pvs_for_snapshot
SELECT id, setpoint_address, readback_address, abs_tolerance, rel_tolerance, read_only, restore_order,
       put_completion
FROM pv p
WHERE p.deleted_at IS NULL
  AND ((%(pv_ids)s::uuid[] IS NULL AND %(tag_ids)s::uuid[] IS NULL)
       OR p.id = ANY(%(pv_ids)s::uuid[])
       OR EXISTS (SELECT 1 FROM pv_tag pt WHERE pt.pv_id = p.id AND pt.tag_id = ANY(%(tag_ids)s::uuid[])))
ORDER BY restore_order, coalesce(setpoint_address, readback_address, config_address), id

-- name: pv_monitored_addresses
SELECT setpoint_address AS address FROM pv WHERE deleted_at IS NULL AND setpoint_address IS NOT NULL
UNION
SELECT readback_address FROM pv WHERE deleted_at IS NULL AND readback_address IS NOT NULL
