-- Readiness: the database answers a query (not only a connection).

-- name: health_ping
SELECT 1
