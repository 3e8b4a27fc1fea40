"""HTTP layer: Litestar controllers, guards and error rendering. No SQL, no CA calls: services are
injected (deps). `routes` lists the controllers; the rest of the public modules are what app.py and ui/
wire in (auth, cookie_auth, middleware, methods, strict, problems, docs)."""

__all__ = [
    "audit",
    "auth",
    "common",
    "cookie_auth",
    "deps",
    "docs",
    "gui_dialect",
    "health",
    "health_v1",
    "jobs",
    "keys",
    "live",
    "methods",
    "metrics",
    "middleware",
    "openapi_contract",
    "openapi_links",
    "openapi_models",
    "problems",
    "pvs",
    "restore",
    "revocation",
    "routes",
    "schedules",
    "snapshots",
    "strict",
    "tags",
]
