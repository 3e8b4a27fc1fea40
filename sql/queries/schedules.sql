-- name: insert_schedule
INSERT INTO schedule (name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, next_run_at,
                      created_by)
VALUES (%(name)s, %(cron)s, %(timezone)s, %(title)s, %(description)s, %(pv_ids)s, %(tag_ids)s, %(use_cache)s,
        %(enabled)s, %(next_run_at)s, %(created_by)s)
RETURNING id, name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, last_run_at,
          next_run_at

-- name: get_schedule
SELECT id, name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, last_run_at, next_run_at
FROM schedule WHERE id = %(id)s

-- name: get_schedule_for_update
SELECT id, name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, last_run_at, next_run_at
FROM schedule WHERE id = %(id)s FOR UPDATE

-- name: list_schedules
SELECT id, name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, last_run_at, next_run_at
FROM schedule ORDER BY lower(name), id

-- name: update_schedule
UPDATE schedule
SET name = %(name)s, cron = %(cron)s, timezone = %(timezone)s, title = %(title)s, description = %(description)s,
    pv_ids = %(pv_ids)s, tag_ids = %(tag_ids)s, use_cache = %(use_cache)s, enabled = %(enabled)s,
    next_run_at = %(next_run_at)s, updated_at = now()
WHERE id = %(id)s
RETURNING id, name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, last_run_at,
          next_run_at

-- name: delete_schedule
DELETE FROM schedule WHERE id = %(id)s RETURNING id, name

-- name: due_schedules
SELECT id, name, cron, timezone, title, description, pv_ids, tag_ids, use_cache, enabled, last_run_at, next_run_at,
       created_by
FROM schedule
WHERE enabled AND next_run_at <= now()
ORDER BY next_run_at
FOR UPDATE SKIP LOCKED

-- name: mark_schedule_run
UPDATE schedule SET last_run_at = %(last_run_at)s, next_run_at = %(next_run_at)s WHERE id = %(id)s
