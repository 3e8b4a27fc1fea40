"""Job rows: the record the API serves (SAQ only dispatches)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from squirrel.db.queries import q

Row = dict[str, Any]


async def insert(
    conn: AsyncConnection[Any],
    job_id: UUID,
    job_type: str,
    job_data: dict[str, Any],
    created_by: str,
    key: str | None,
    max_attempts: int,
) -> tuple[UUID, bool]:
    """Insert a pending job; with a key already used, the existing job's id and False."""
    params = {
        "id": job_id,
        "saq_key": str(job_id),
        "type": job_type,
        "job_data": Jsonb(job_data),
        "created_by": created_by,
        "key": key,
        "max_attempts": max_attempts,
    }
    cur = await conn.execute(q("insert_job"), params)
    row = await cur.fetchone()
    if row is not None:
        return row[0], True
    cur = await conn.execute(q("job_id_by_key"), {"key": key})
    existing = await cur.fetchone()
    assert existing is not None
    return existing[0], False


async def set_saq_key(conn: AsyncConnection[Any], job_id: UUID, saq_key: str) -> None:
    await conn.execute(q("set_job_saq_key"), {"id": job_id, "saq_key": saq_key})


async def get(conn: AsyncConnection[Any], job_id: UUID) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("get_job"), {"id": job_id})
    return await cur.fetchone()


async def list_jobs(conn: AsyncConnection[Any], status: str | None, job_type: str | None, limit: int) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("list_jobs"), {"status": status, "type": job_type, "limit": limit})
    return await cur.fetchall()


async def start(conn: AsyncConnection[Any], job_id: UUID) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("start_job"), {"id": job_id})
    return await cur.fetchone()


async def progress(conn: AsyncConnection[Any], job_id: UUID, percent: int, message: str) -> bool:
    """False when the job is no longer running (cancelled meanwhile)."""
    cur = await conn.execute(q("job_progress"), {"id": job_id, "progress": percent, "message": message})
    return cur.rowcount > 0


async def checkpoint(conn: AsyncConnection[Any], job_id: UUID, data: dict[str, Any]) -> bool:
    cur = await conn.execute(q("job_checkpoint"), {"id": job_id, "checkpoint": Jsonb(data)})
    return cur.rowcount > 0


async def complete(
    conn: AsyncConnection[Any],
    job_id: UUID,
    message: str,
    result_id: UUID | None,
    result: dict[str, Any] | None,
    warnings: list[str] | None = None,
) -> bool:
    params = {
        "id": job_id,
        "message": message,
        "result_id": result_id,
        "result": None if result is None else Jsonb(result),
        "warnings": list(warnings or []),
    }
    cur = await conn.execute(q("complete_job"), params)
    return cur.rowcount > 0


async def fail(conn: AsyncConnection[Any], job_id: UUID, message: str, error: str) -> bool:
    cur = await conn.execute(q("fail_job"), {"id": job_id, "message": message, "error": error})
    return cur.rowcount > 0


async def requeue(conn: AsyncConnection[Any], job_id: UUID, message: str, error: str) -> bool:
    cur = await conn.execute(q("requeue_job"), {"id": job_id, "message": message, "error": error})
    return cur.rowcount > 0


async def cancel(conn: AsyncConnection[Any], job_id: UUID) -> bool:
    cur = await conn.execute(q("cancel_job"), {"id": job_id})
    return await cur.fetchone() is not None


async def status(conn: AsyncConnection[Any], job_id: UUID) -> tuple[str, str] | None:
    cur = await conn.execute(q("job_status"), {"id": job_id})
    row = await cur.fetchone()
    return None if row is None else (row[0], row[1])


async def unfinished(conn: AsyncConnection[Any], min_age: float) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("unfinished_jobs"), {"min_age": min_age})
    return await cur.fetchall()


async def purge(conn: AsyncConnection[Any], days: int) -> int:
    cur = await conn.execute(q("purge_jobs"), {"days": days})
    return cur.rowcount


async def try_lock(conn: AsyncConnection[Any], key: int) -> bool:
    cur = await conn.execute(q("try_job_lock"), {"key": key})
    row = await cur.fetchone()
    return bool(row and row[0])


async def unlock(conn: AsyncConnection[Any], key: int) -> None:
    await conn.execute(q("job_unlock"), {"key": key})
