"""PostgreSQL access, the only package that imports psycopg: pool and error translation, named
queries (sql/queries), migrations, the embedded server and its supervisor, the registry LISTEN loop,
and one repository module per aggregate (pvs, tags, snapshots, restore, jobs, keys, ...)."""

__all__ = [
    "audit",
    "compare",
    "embedded",
    "health",
    "jobs",
    "keys",
    "live",
    "migrate",
    "monitor",
    "pool",
    "probe",
    "pvs",
    "queries",
    "registry_listen",
    "restore",
    "rows",
    "schedules",
    "snapshot_import",
    "snapshots",
    "supervisor",
    "tags",
]
