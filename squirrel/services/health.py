"""Readiness: the database answers, and each role this process runs is up."""

from __future__ import annotations

from typing import Any

from squirrel.db import health as health_db
from squirrel.db.pool import connection
from squirrel.errors import SquirrelError
from squirrel.services.context import ServiceContext


async def readiness(ctx: ServiceContext) -> dict[str, Any]:
    checks: dict[str, Any] = {"database": await _database(ctx)}
    if ctx.settings.has_role("monitor"):
        checks["monitor"] = "ok" if ctx.monitor is not None and ctx.monitor.running else "down"
    if ctx.settings.has_role("worker"):
        checks["worker"] = "ok" if ctx.queue is not None and ctx.queue.running else "down"
    return {"ready": all(v == "ok" for v in checks.values()), "checks": checks}


async def _database(ctx: ServiceContext) -> str:
    """`ok`, or why not: the supervisor's word while the embedded server is down or restarting."""
    supervisor = ctx.db_supervisor
    if supervisor is not None and supervisor.reason is not None:
        return str(supervisor.reason)
    try:
        async with connection(ctx.pool) as conn:
            await health_db.ping(conn)
    except SquirrelError as exc:
        return exc.detail
    return "ok"
