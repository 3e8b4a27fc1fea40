"""Schedule rows (cron-driven snapshots)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

Row = dict[str, Any]


async def _one(conn: AsyncConnection[Any], name: str, params: dict[str, Any]) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q(name), params)
    return await cur.fetchone()


async def insert(conn: AsyncConnection[Any], values: dict[str, Any]) -> Row:
    row = await _one(conn, "insert_schedule", values)
    assert row is not None
    return row


async def get(conn: AsyncConnection[Any], schedule_id: UUID, *, for_update: bool = False) -> Row | None:
    return await _one(conn, "get_schedule_for_update" if for_update else "get_schedule", {"id": schedule_id})


async def list_all(conn: AsyncConnection[Any]) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("list_schedules"))
    return await cur.fetchall()


async def update(conn: AsyncConnection[Any], schedule_id: UUID, values: dict[str, Any]) -> Row | None:
    return await _one(conn, "update_schedule", {"id": schedule_id, **values})


async def delete(conn: AsyncConnection[Any], schedule_id: UUID) -> Row | None:
    return await _one(conn, "delete_schedule", {"id": schedule_id})


async def due(conn: AsyncConnection[Any]) -> list[Row]:
    """Enabled schedules whose next run has come, locked (SKIP LOCKED: another worker takes the others)."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("due_schedules"))
    return await cur.fetchall()


async def mark_run(conn: AsyncConnection[Any], schedule_id: UUID, last_run_at: datetime, next_run_at: datetime) -> None:
    await conn.execute(
        q("mark_schedule_run"), {"id": schedule_id, "last_run_at": last_run_at, "next_run_at": next_run_at}
    )
