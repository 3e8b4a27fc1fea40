-- name: insert_api_key
INSERT INTO api_key (app_name, token_hash, scopes)
VALUES (%(app_name)s, %(token_hash)s, %(scopes)s)
RETURNING id, app_name, scopes, is_active, created_at, last_used_at

-- name: get_api_key_by_hash
SELECT id, app_name, scopes, is_active
FROM api_key
WHERE token_hash = %(token_hash)s

-- name: list_api_keys
SELECT id, app_name, scopes, is_active, created_at, last_used_at
FROM api_key
WHERE is_active OR %(include_inactive)s
ORDER BY created_at, id

-- name: count_api_keys
SELECT count(*) FILTER (WHERE is_active) AS active, count(*) AS total FROM api_key

-- name: revoke_api_key
UPDATE api_key SET is_active = false, revoked_at = now()
WHERE id = %(id)s AND is_active
RETURNING id, app_name, scopes, is_active, created_at, last_used_at

-- name: get_api_key
SELECT id, app_name, scopes, is_active, created_at, last_used_at FROM api_key WHERE id = %(id)s

-- name: touch_api_key
UPDATE api_key SET last_used_at = now() WHERE id = %(id)s
