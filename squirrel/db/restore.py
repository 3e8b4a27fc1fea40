"""Restore bookkeeping rows (restore_run, restore_item) and the snapshot rows a restore reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from squirrel.db.rows import Conn, copy_rows, execute, fetch_one, fetch_scalar, fetch_tuples


async def ensure_run(conn: Conn, job_id: UUID, snapshot_id: UUID) -> UUID | None:
    """Create the job's run row if missing; the backup snapshot id a previous attempt took, if any."""
    await execute(conn, "ensure_restore_run", {"job_id": job_id, "snapshot_id": snapshot_id})
    run = await fetch_one(conn, "get_restore_run", {"job_id": job_id})
    return run["backup_snapshot_id"] if run else None


async def set_backup(conn: Conn, job_id: UUID, backup_snapshot_id: UUID) -> None:
    await execute(conn, "set_restore_backup", {"job_id": job_id, "backup_snapshot_id": backup_snapshot_id})


async def done_items(conn: Conn, job_id: UUID) -> dict[UUID, tuple[str, str | None, bool]]:
    """Outcomes recorded by earlier attempts of this job: pv id → (outcome, error, changed)."""
    return {
        row[0]: (row[1], row[2], row[3]) for row in await fetch_tuples(conn, "restore_items_done", {"job_id": job_id})
    }


async def record_items(conn: Conn, job_id: UUID, items: Sequence[tuple[UUID, str, str | None, bool]]) -> None:
    """Append completed outcomes (pv id, outcome, error, changed) with binary COPY."""
    if not items:
        return
    rows = ((job_id, pv_id, outcome, error, changed) for pv_id, outcome, error, changed in items)
    await copy_rows(conn, "copy_restore_items", ["uuid", "uuid", "text", "text", "bool"], rows)


async def upsert_items(conn: Conn, job_id: UUID, items: Sequence[tuple[UUID, str, str | None, bool]]) -> None:
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
    await execute(conn, "upsert_restore_items", params)


# (pv_id, pv_name, setpoint_name, readback_name, setpoint side, in_registry, read_only, restore_order,
#  put_completion, abs_tolerance, rel_tolerance): restore_targets' columns, in order.
TargetRow = tuple[UUID, str, str | None, str | None, bytes | None, bool, bool, int, bool, float, float]


async def targets(conn: Conn, snapshot_id: UUID) -> list[TargetRow]:
    """The snapshot's rows (stored setpoint side) joined with the PV's registry row as it is now: tuples,
    in binary (50K of them for a large restore)."""
    rows: list[TargetRow] = await fetch_tuples(conn, "restore_targets", {"snapshot_id": snapshot_id}, binary=True)
    return rows


async def snapshot_exists(conn: Conn, snapshot_id: UUID) -> bool:
    return bool(await fetch_scalar(conn, "snapshot_exists", {"snapshot_id": snapshot_id}))


async def request_check(conn: Conn, snapshot_id: UUID, pv_ids: Sequence[UUID] | None) -> tuple[int, list[UUID]] | None:
    """(pv_count, asked ids the snapshot lacks), or None when the snapshot does not exist."""
    found = await fetch_tuples(conn, "restore_request_check", {"snapshot_id": snapshot_id, "pv_ids": pv_ids})
    return (int(found[0][0]), list(found[0][1])) if found else None


async def lock_start(conn: Conn, key: int) -> None:
    """Serialise restore starts for the rest of the caller's transaction."""
    await execute(conn, "lock_restore_start", {"key": key})


async def active_restore_job(conn: Conn) -> UUID | None:
    job_id: UUID | None = await fetch_scalar(conn, "active_restore_job")
    return job_id


async def set_cancelled_result(
    conn: Conn, job_id: UUID, snapshot_id: UUID, result: dict[str, Any] | None, message: str
) -> None:
    """Keep a cancelled restore's per-PV outcomes on its job row (the queue stores results only on success)."""
    params = {"job_id": job_id, "result_id": snapshot_id, "result": Jsonb(result), "message": message}
    await execute(conn, "set_cancelled_restore_result", params)


async def fail_job(
    conn: Conn, job_id: UUID, snapshot_id: UUID, result: dict[str, Any], message: str, error: str
) -> bool:
    """End a restore job `failed` with its full result; False when it is no longer running (cancelled)."""
    params = {"job_id": job_id, "result_id": snapshot_id, "result": Jsonb(result), "message": message, "error": error}
    return await execute(conn, "fail_restore_job", params) > 0
