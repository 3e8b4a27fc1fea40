-- name: lock_snapshot_imports
-- Imports run their duplicate check and insert one at a time (two uploads of one file race otherwise).
SELECT pg_advisory_xact_lock(hashtext('squirrel.snapshot_import'))

-- name: import_duplicate
-- The snapshot a file duplicates: the one it was exported from, an earlier import of it, or an earlier
-- import with the same title and values.
SELECT id, title, created_at, import_source FROM snapshot
WHERE id = %(source)s::uuid OR import_source = %(source)s::uuid OR import_digest = %(digest)s
ORDER BY (id = %(source)s::uuid) DESC, created_at
LIMIT 1

-- name: import_candidates
-- Snapshots taken here that a file without an id may duplicate: same title and size, newest first.
SELECT id, title, created_at FROM snapshot
WHERE title = %(title)s AND pv_count = %(pv_count)s AND import_digest IS NULL
ORDER BY created_at DESC
LIMIT %(limit)s

-- name: set_import_origin
UPDATE snapshot SET import_source = %(source)s, import_digest = %(digest)s WHERE id = %(id)s

-- name: registry_ids_by_address
-- Live registry rows for the addresses of a CSV import (its rows carry names, not PV ids).
SELECT id, setpoint_address, readback_address FROM pv
WHERE deleted_at IS NULL
  AND (setpoint_address = ANY(%(addresses)s::text[]) OR readback_address = ANY(%(addresses)s::text[]))
