"""The audit trail: every mutation, restore and key change, with the key's name."""

from __future__ import annotations

from datetime import datetime

from squirrel.db import audit as audit_db
from squirrel.db.pool import connection
from squirrel.db.rows import Conn, Page
from squirrel.model import AuditEntry, Principal
from squirrel.services.context import ServiceContext


async def record(
    conn: Conn,
    actor: Principal,
    action: str,
    resource_type: str,
    resource_id: object | None = None,
    summary: str = "",
) -> None:
    """Write an audit row inside the caller's transaction, so the log and the change commit together."""
    rid = None if resource_id is None else str(resource_id)
    await audit_db.insert(conn, actor.name, action, resource_type, rid, summary[:2000])


async def list_entries(
    ctx: ServiceContext, since: datetime | None, actor: str | None, action: str | None, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    async with connection(ctx.pool) as conn:
        rows, total = await audit_db.page(conn, since, actor, action, Page(limit, offset))
    return [AuditEntry(**row) for row in rows], total
