"""Audit log rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q


async def insert(
    conn: AsyncConnection[Any], actor: str, action: str, resource_type: str, resource_id: str | None, summary: str
) -> None:
    await conn.execute(
        q("insert_audit"),
        {
            "actor": actor,
            "action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "summary": summary,
        },
    )


async def page(
    conn: AsyncConnection[Any], since: datetime | None, actor: str | None, action: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    params = {"since": since, "actor": actor, "action": action, "limit": limit, "offset": offset}
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("list_audit"), params)
    rows = await cur.fetchall()
    total_cur = await conn.execute(q("count_audit"), params)
    total_row = await total_cur.fetchone()
    return rows, int(total_row[0]) if total_row else 0
