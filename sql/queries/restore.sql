-- Restore: per-job bookkeeping (restore_run, restore_item) and the reads a restore needs.

-- name: ensure_restore_run
INSERT INTO restore_run (job_id, snapshot_id) VALUES (%(job_id)s, %(snapshot_id)s)
ON CONFLICT (job_id) DO NOTHING

-- name: get_restore_run
SELECT job_id, snapshot_id, backup_snapshot_id FROM restore_run WHERE job_id = %(job_id)s

-- name: set_restore_backup
UPDATE restore_run SET backup_snapshot_id = %(backup_snapshot_id)s WHERE job_id = %(job_id)s

-- name: restore_items_done
SELECT pv_id, outcome, error, changed FROM restore_item WHERE job_id = %(job_id)s

-- name: copy_restore_items
COPY restore_item (job_id, pv_id, outcome, error, changed) FROM STDIN (FORMAT BINARY)

-- name: snapshot_exists
SELECT EXISTS (SELECT 1 FROM snapshot WHERE id = %(snapshot_id)s)

-- name: restore_request_check
-- What a restore request needs checked before it is queued: the snapshot's size and the asked ids it lacks.
SELECT s.pv_count,
       ARRAY(SELECT x FROM unnest(%(pv_ids)s::uuid[]) AS x
             EXCEPT SELECT v.pv_id FROM snapshot_value v WHERE v.snapshot_id = s.id) AS foreign_ids
FROM snapshot s
WHERE s.id = %(snapshot_id)s

-- name: active_restore_job
SELECT id FROM job WHERE type = 'snapshot_restore' AND status IN ('pending', 'running')
ORDER BY created_at LIMIT 1

-- name: lock_restore_start
SELECT pg_advisory_xact_lock(%(key)s)

-- name: restore_targets
-- The stored setpoint side of every row, joined with the PV's registry row as it is now (if alive).
SELECT v.pv_id, coalesce(v.setpoint_name, v.readback_name) AS pv_name, v.setpoint_name, v.readback_name,
       v.setpoint, p.id IS NOT NULL AS in_registry, coalesce(p.read_only, false) AS read_only,
       coalesce(p.restore_order, 0) AS restore_order, coalesce(p.put_completion, true) AS put_completion,
       coalesce(p.abs_tolerance, 0) AS abs_tolerance, coalesce(p.rel_tolerance, 0) AS rel_tolerance
FROM snapshot_value v
LEFT JOIN pv p ON p.id = v.pv_id AND p.deleted_at IS NULL
WHERE v.snapshot_id = %(snapshot_id)s
ORDER BY v.idx

-- name: set_cancelled_restore_result
UPDATE job SET result = %(result)s, result_id = %(result_id)s, message = %(message)s
WHERE id = %(job_id)s AND status = 'cancelled'

-- name: fail_restore_job
-- A restore that ran to the end but did not restore every PV: a final outcome, never retried, with the
-- per-PV result kept (the queue's own failure path keeps no result).
UPDATE job
SET status = 'failed', progress = 100, message = %(message)s, error = %(error)s, result_id = %(result_id)s,
    result = %(result)s, completed_at = clock_timestamp()
WHERE id = %(job_id)s AND status = 'running'

-- name: upsert_restore_items
-- Verification's outcomes replace the `written` ones recorded as the stage's writes completed.
INSERT INTO restore_item (job_id, pv_id, outcome, error, changed)
SELECT %(job_id)s, * FROM unnest(%(pv_ids)s::uuid[], %(outcomes)s::text[], %(errors)s::text[], %(changed)s::bool[])
ON CONFLICT (job_id, pv_id) DO UPDATE SET outcome = EXCLUDED.outcome, error = EXCLUDED.error, changed = EXCLUDED.changed
