"""Schedule rows (cron-driven snapshots)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from squirrel.db.rows import Conn, Row, execute, fetch_all, fetch_one


async def insert(conn: Conn, values: dict[str, Any]) -> Row:
    row = await fetch_one(conn, "insert_schedule", values)
    assert row is not None
    return row


async def get(conn: Conn, schedule_id: UUID, *, for_update: bool = False) -> Row | None:
    return await fetch_one(conn, "get_schedule_for_update" if for_update else "get_schedule", {"id": schedule_id})


async def list_all(conn: Conn) -> list[Row]:
    return await fetch_all(conn, "list_schedules")


async def update(conn: Conn, schedule_id: UUID, values: dict[str, Any]) -> Row | None:
    return await fetch_one(conn, "update_schedule", {"id": schedule_id, **values})


async def delete(conn: Conn, schedule_id: UUID) -> Row | None:
    return await fetch_one(conn, "delete_schedule", {"id": schedule_id})


async def due(conn: Conn) -> list[Row]:
    """Enabled schedules whose next run has come, locked (SKIP LOCKED: another worker takes the others)."""
    return await fetch_all(conn, "due_schedules")


async def mark_run(conn: Conn, schedule_id: UUID, last_run_at: datetime, next_run_at: datetime) -> None:
    await execute(
        conn, "mark_schedule_run", {"id": schedule_id, "last_run_at": last_run_at, "next_run_at": next_run_at}
    )
