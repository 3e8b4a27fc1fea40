-- name: insert_job
INSERT INTO job (id, type, job_data, created_by, key, max_attempts, saq_key, message)
VALUES (%(id)s, %(type)s, %(job_data)s, %(created_by)s, %(key)s, %(max_attempts)s, %(saq_key)s, 'Queued')
ON CONFLICT (key) DO NOTHING
RETURNING id

-- name: job_id_by_key
SELECT id FROM job WHERE key = %(key)s

-- name: set_job_saq_key
UPDATE job SET saq_key = %(saq_key)s WHERE id = %(id)s

-- name: get_job
SELECT id, type, status, progress, message, result_id, error, job_data, result, created_at, started_at,
       completed_at, created_by, attempt, warnings
FROM job WHERE id = %(id)s

-- name: list_jobs
SELECT id, type, status, progress, message, result_id, error, job_data, result, created_at, started_at,
       completed_at, created_by, attempt, warnings
FROM job
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(type)s::text IS NULL OR type = %(type)s::text)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s

-- name: start_job
UPDATE job
SET status = 'running', started_at = coalesce(started_at, now()), attempt = attempt + 1,
    message = CASE WHEN attempt > 0 THEN 'Retrying (attempt ' || (attempt + 1) || ')' ELSE 'Started' END
WHERE id = %(id)s AND status IN ('pending', 'running')
RETURNING type, job_data, attempt, max_attempts, created_by, checkpoint

-- name: job_progress
UPDATE job SET progress = GREATEST(progress, %(progress)s), message = %(message)s
WHERE id = %(id)s AND status = 'running'

-- name: job_checkpoint
UPDATE job SET checkpoint = %(checkpoint)s WHERE id = %(id)s AND status = 'running'

-- name: complete_job
UPDATE job
SET status = 'completed', progress = 100, message = %(message)s, result_id = %(result_id)s,
    result = %(result)s, warnings = %(warnings)s, completed_at = clock_timestamp(), error = NULL
WHERE id = %(id)s AND status = 'running'

-- name: fail_job
UPDATE job SET status = 'failed', message = %(message)s, error = %(error)s, completed_at = clock_timestamp()
WHERE id = %(id)s AND status IN ('pending', 'running')

-- name: requeue_job
UPDATE job SET status = 'pending', message = %(message)s, error = %(error)s
WHERE id = %(id)s AND status = 'running'

-- name: cancel_job
UPDATE job SET status = 'cancelled', message = 'Cancelled', completed_at = clock_timestamp()
WHERE id = %(id)s AND status IN ('pending', 'running')
RETURNING id

-- name: job_status
SELECT status, type FROM job WHERE id = %(id)s

-- name: unfinished_jobs
SELECT id, type, status, saq_key FROM job
WHERE status IN ('pending', 'running') AND created_at < now() - make_interval(secs => %(min_age)s)
ORDER BY created_at

-- name: purge_jobs
DELETE FROM job
WHERE status IN ('completed', 'failed', 'cancelled')
  AND completed_at < now() - make_interval(days => %(days)s)

-- name: try_job_lock
SELECT pg_try_advisory_lock(%(key)s)

-- name: job_unlock
SELECT pg_advisory_unlock(%(key)s)
