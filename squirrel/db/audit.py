"""Audit log rows."""

from __future__ import annotations

from datetime import datetime

from squirrel.db.rows import Conn, Page, Row, execute, fetch_all, fetch_scalar


async def insert(
    conn: Conn, actor: str, action: str, resource_type: str, resource_id: str | None, summary: str
) -> None:
    await execute(
        conn,
        "insert_audit",
        {
            "actor": actor,
            "action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "summary": summary,
        },
    )


async def page(
    conn: Conn, since: datetime | None, actor: str | None, action: str | None, page: Page
) -> tuple[list[Row], int]:
    params = page.params(since=since, actor=actor, action=action)
    rows = await fetch_all(conn, "list_audit", params)
    total = await fetch_scalar(conn, "count_audit", params)
    return rows, int(total or 0)
