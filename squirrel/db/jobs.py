"""Job rows: the record the API serves (SAQ only dispatches)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from squirrel.db.rows import Conn, Row, execute, fetch_all, fetch_one, fetch_scalar


async def insert(
    conn: Conn,
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
    inserted: UUID | None = await fetch_scalar(conn, "insert_job", params)
    if inserted is not None:
        return inserted, True
    existing: UUID | None = await fetch_scalar(conn, "job_id_by_key", {"key": key})
    assert existing is not None
    return existing, False


async def set_saq_key(conn: Conn, job_id: UUID, saq_key: str) -> None:
    await execute(conn, "set_job_saq_key", {"id": job_id, "saq_key": saq_key})


async def get(conn: Conn, job_id: UUID) -> Row | None:
    return await fetch_one(conn, "get_job", {"id": job_id})


async def list_jobs(conn: Conn, status: str | None, job_type: str | None, limit: int) -> list[Row]:
    return await fetch_all(conn, "list_jobs", {"status": status, "type": job_type, "limit": limit})


async def start(conn: Conn, job_id: UUID) -> Row | None:
    return await fetch_one(conn, "start_job", {"id": job_id})


async def progress(conn: Conn, job_id: UUID, percent: int, message: str) -> bool:
    """False when the job is no longer running (cancelled meanwhile)."""
    return await execute(conn, "job_progress", {"id": job_id, "progress": percent, "message": message}) > 0


async def checkpoint(conn: Conn, job_id: UUID, data: dict[str, Any]) -> bool:
    return await execute(conn, "job_checkpoint", {"id": job_id, "checkpoint": Jsonb(data)}) > 0


async def complete(
    conn: Conn,
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
    return await execute(conn, "complete_job", params) > 0


async def fail(conn: Conn, job_id: UUID, message: str, error: str) -> bool:
    return await execute(conn, "fail_job", {"id": job_id, "message": message, "error": error}) > 0


async def requeue(conn: Conn, job_id: UUID, message: str, error: str) -> bool:
    return await execute(conn, "requeue_job", {"id": job_id, "message": message, "error": error}) > 0


async def cancel(conn: Conn, job_id: UUID) -> bool:
    return await fetch_one(conn, "cancel_job", {"id": job_id}) is not None


async def status(conn: Conn, job_id: UUID) -> tuple[str, str] | None:
    row = await fetch_one(conn, "job_status", {"id": job_id})
    return None if row is None else (row["status"], row["type"])


async def unfinished(conn: Conn, min_age: float) -> list[Row]:
    return await fetch_all(conn, "unfinished_jobs", {"min_age": min_age})


async def purge(conn: Conn, days: int) -> int:
    return await execute(conn, "purge_jobs", {"days": days})


async def try_lock(conn: Conn, key: int) -> bool:
    return bool(await fetch_scalar(conn, "try_job_lock", {"key": key}))


async def unlock(conn: Conn, key: int) -> None:
    await execute(conn, "job_unlock", {"key": key})
