"""Business logic: no HTTP types here; called by api/ and ui/, calls db/, epics/, pva/, live/, jobs/.
The aggregates with several steps are packages (registry/, snapshots/, restore/); `_common`, `csvio`,
`pv_io` and `ratelimit` stay inside."""

__all__ = [
    "audit",
    "compare",
    "context",
    "health",
    "jobs",
    "keys",
    "live",
    "metrics",
    "monitoring",
    "registry",
    "registry_check",
    "restore",
    "schedules",
    "snapshots",
    "tags",
]
