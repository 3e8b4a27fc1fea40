-- Tag groups and tags. Names are unique case-insensitively (lower(name) unique indexes).

-- name: list_tag_groups
SELECT g.id, g.name, g.description, (SELECT count(*) FROM tag t WHERE t.group_id = g.id) AS tag_count
FROM tag_group g
ORDER BY lower(g.name), g.id

-- name: get_tag_group
SELECT id, name, description, created_at, updated_at FROM tag_group WHERE id = %(id)s

-- name: tags_of_group
SELECT id, name, description, group_id, created_at, updated_at
FROM tag WHERE group_id = %(group_id)s
ORDER BY lower(name), id

-- name: find_tag_group_by_name
SELECT id, name FROM tag_group
WHERE lower(name) = lower(%(name)s) AND (%(except_id)s::uuid IS NULL OR id <> %(except_id)s::uuid)

-- name: find_tag_by_name
SELECT id, name FROM tag
WHERE group_id = %(group_id)s AND lower(name) = lower(%(name)s)
  AND (%(except_id)s::uuid IS NULL OR id <> %(except_id)s::uuid)

-- name: insert_tag_group
INSERT INTO tag_group (name, description) VALUES (%(name)s, %(description)s)
RETURNING id

-- name: update_tag_group
UPDATE tag_group SET name = %(name)s, description = %(description)s, updated_at = now()
WHERE id = %(id)s
RETURNING id

-- name: delete_tag_group
-- The tags and their PV links go by ON DELETE CASCADE; the counts are taken first for the answer.
WITH links AS (
    SELECT count(*) AS n FROM pv_tag pt JOIN tag t ON t.id = pt.tag_id WHERE t.group_id = %(id)s
), tags AS (
    SELECT count(*) AS n FROM tag WHERE group_id = %(id)s
), gone AS (
    DELETE FROM tag_group WHERE id = %(id)s RETURNING id, name
)
SELECT gone.id, gone.name, tags.n AS tags_removed, links.n AS pv_links_removed FROM gone, tags, links

-- name: insert_tag
INSERT INTO tag (group_id, name, description) VALUES (%(group_id)s, %(name)s, %(description)s)
RETURNING id

-- name: get_tag
SELECT id, name, description, group_id FROM tag WHERE id = %(id)s AND group_id = %(group_id)s

-- name: update_tag
UPDATE tag SET name = %(name)s, description = %(description)s, updated_at = now()
WHERE id = %(id)s AND group_id = %(group_id)s
RETURNING id

-- name: delete_tag
DELETE FROM tag WHERE id = %(id)s AND group_id = %(group_id)s
RETURNING id, name

-- name: groups_by_lower_names
SELECT id, name FROM tag_group WHERE lower(name) = ANY(%(names)s::text[])

-- name: insert_tag_groups_missing
-- Bulk get-or-create: names already present (any case) are skipped by the unique index.
INSERT INTO tag_group (name)
SELECT unnest(%(names)s::text[])
ON CONFLICT ((lower(name))) DO NOTHING
RETURNING id, name

-- name: tags_of_groups
SELECT t.id, t.name, t.group_id FROM tag t WHERE t.group_id = ANY(%(group_ids)s::uuid[])

-- name: insert_tags_missing
INSERT INTO tag (group_id, name)
SELECT * FROM unnest(%(group_ids)s::uuid[], %(names)s::text[])
ON CONFLICT (group_id, (lower(name))) DO NOTHING
RETURNING id, name, group_id

-- name: all_tags
SELECT t.id, t.name, g.name AS group_name
FROM tag t JOIN tag_group g ON g.id = t.group_id
ORDER BY lower(g.name), lower(t.name)
