"""Restore bookkeeping rows (restore_run, restore_item) and the snapshot rows a restore reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from squirrel.db.queries import q


async def ensure_run(conn: AsyncConnection[Any], job_id: UUID, snapshot_id: UUID) -> UUID | None:
    """Create the job's run row if missing; the backup snapshot id a previous attempt took, if any."""
    await conn.execute(q("ensure_restore_run"), {"job_id": job_id, "snapshot_id": snapshot_id})
    cur = await conn.execute(q("get_restore_run"), {"job_id": job_id})
    row = await cur.fetchone()
    return row[2] if row else None


async def set_backup(conn: AsyncConnection[Any], job_id: UUID, backup_snapshot_id: UUID) -> None:
    await conn.execute(q("set_restore_backup"), {"job_id": job_id, "backup_snapshot_id": backup_snapshot_id})


async def done_items(conn: AsyncConnection[Any], job_id: UUID) -> dict[UUID, tuple[str, str | None, bool]]:
    """Outcomes recorded by earlier attempts of this job: pv id → (outcome, error, changed)."""
    cur = await conn.execute(q("restore_items_done"), {"job_id": job_id})
    return {row[0]: (row[1], row[2], row[3]) for row in await cur.fetchall()}


async def record_items(
    conn: AsyncConnection[Any], job_id: UUID, items: Sequence[tuple[UUID, str, str | None, bool]]
) -> None:
    """Append completed outcomes (pv id, outcome, error, changed) with binary COPY."""
    if not items:
        return
    cur = conn.cursor()
    async with cur.copy(q("copy_restore_items")) as copy:
        copy.set_types(["uuid", "uuid", "text", "text", "bool"])
        for pv_id, outcome, error, changed in items:
            await copy.write_row((job_id, pv_id, outcome, error, changed))


async def upsert_items(
    conn: AsyncConnection[Any], job_id: UUID, items: Sequence[tuple[UUID, str, str | None, bool]]
) -> None:
    """Record outcomes (pv id, outcome, error, changed), replacing any recorded before for the same PV."""
    if not items:
        return
    params = {
        "job_id": job_id,
        "pv_ids": [i[0] for i in items],
        "outcomes": [i[1] for i in items],
        "errors": [i[2] for i in items],
        "changed": [i[3] for i in items],
    }
    await conn.execute(q("upsert_restore_items"), params)


async def fetch_dicts(conn: AsyncConnection[Any], query_name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q(query_name), params)
    return await cur.fetchall()


async def snapshot_exists(conn: AsyncConnection[Any], snapshot_id: UUID) -> bool:
    cur = await conn.execute(q("snapshot_exists"), {"snapshot_id": snapshot_id})
    row = await cur.fetchone()
    return bool(row and row[0])


async def request_check(
    conn: AsyncConnection[Any], snapshot_id: UUID, pv_ids: Sequence[UUID] | None
) -> tuple[int, list[UUID]] | None:
    """(pv_count, asked ids the snapshot lacks), or None when the snapshot does not exist."""
    cur = await conn.execute(q("restore_request_check"), {"snapshot_id": snapshot_id, "pv_ids": pv_ids})
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), list(row[1]))


async def lock_start(conn: AsyncConnection[Any], key: int) -> None:
    """Serialise restore starts for the rest of the caller's transaction."""
    await conn.execute(q("lock_restore_start"), {"key": key})


async def active_restore_job(conn: AsyncConnection[Any]) -> UUID | None:
    cur = await conn.execute(q("active_restore_job"))
    row = await cur.fetchone()
    return row[0] if row else None


async def set_cancelled_result(
    conn: AsyncConnection[Any], job_id: UUID, snapshot_id: UUID, result: dict[str, Any] | None, message: str
) -> None:
    """Keep a cancelled restore's per-PV outcomes on its job row (the queue stores results only on success)."""
    await conn.execute(
        q("set_cancelled_restore_result"),
        {"job_id": job_id, "result_id": snapshot_id, "result": Jsonb(result), "message": message},
    )


async def fail_job(
    conn: AsyncConnection[Any], job_id: UUID, snapshot_id: UUID, result: dict[str, Any], message: str, error: str
) -> bool:
    """End a restore job `failed` with its full result; False when it is no longer running (cancelled)."""
    cur = await conn.execute(
        q("fail_restore_job"),
        {"job_id": job_id, "result_id": snapshot_id, "result": Jsonb(result), "message": message, "error": error},
    )
    return cur.rowcount > 0
