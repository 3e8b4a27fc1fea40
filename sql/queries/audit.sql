-- name: insert_audit
INSERT INTO audit_log (actor, action, resource_type, resource_id, summary)
VALUES (%(actor)s, %(action)s, %(resource_type)s, %(resource_id)s, %(summary)s)

-- name: list_audit
SELECT id, at, actor, action, resource_type, resource_id, summary
FROM audit_log
WHERE (%(since)s::timestamptz IS NULL OR at >= %(since)s)
  AND (%(actor)s::text IS NULL OR actor = %(actor)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
ORDER BY at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_audit
SELECT count(*) FROM audit_log
WHERE (%(since)s::timestamptz IS NULL OR at >= %(since)s)
  AND (%(actor)s::text IS NULL OR actor = %(actor)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
