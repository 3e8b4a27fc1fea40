"""Jobs as the API serves them: list, get, cancel, progress events; and which task runs each type."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial
from uuid import UUID

from squirrel.db import jobs as jobs_db
from squirrel.db.pool import connection
from squirrel.db.rows import Row, as_struct
from squirrel.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from squirrel.jobs.payloads import PAYLOADS
from squirrel.jobs.queue import JobQueue
from squirrel.model import JobDTO, Principal
from squirrel.services import audit
from squirrel.services._common import found
from squirrel.services.context import ServiceContext
from squirrel.services.restore import job as restore
from squirrel.services.schedules import run_due_schedules
from squirrel.services.snapshots import take as snapshots

JOB_TYPES = tuple(PAYLOADS)
JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
TERMINAL = ("completed", "failed", "cancelled")
_POLL = 1.0  # seconds between re-reads when no in-process wake-up came (the worker may run elsewhere)


def register_job_types(queue: JobQueue, ctx: ServiceContext) -> None:
    """Register every job type's task, bound to the context (in every process: enqueueing needs the
    type's timeout and attempts)."""
    queue.register(snapshots.JOB_TYPE, partial(snapshots.snapshot_job, ctx), snapshots.JOB_TIMEOUT)
    restore_task = partial(restore.restore_job, ctx)
    queue.register(restore.JOB_TYPE, restore_task, restore.RESTORE_JOB_TIMEOUT, attempts=restore.RESTORE_JOB_ATTEMPTS)


def to_dto(row: Row) -> JobDTO:
    return as_struct(JobDTO, row, job_data=row["job_data"] or {}, warnings=list(row.get("warnings") or []))


async def get_job(ctx: ServiceContext, job_id: UUID) -> JobDTO:
    async with connection(ctx.pool) as conn:
        row = await jobs_db.get(conn, job_id)
    return to_dto(found(row, f"job {job_id}"))


async def list_jobs(ctx: ServiceContext, status: str | None, job_type: str | None, limit: int) -> list[JobDTO]:
    if status is not None and status not in JOB_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(JOB_STATUSES)}, got {status!r}")
    if job_type is not None and job_type not in JOB_TYPES:
        raise ValidationError(f"type must be one of {', '.join(JOB_TYPES)}, got {job_type!r}")
    async with connection(ctx.pool) as conn:
        rows = await jobs_db.list_jobs(conn, status, job_type, limit)
    return [to_dto(r) for r in rows]


async def cancel_job(ctx: ServiceContext, job_id: UUID, actor: Principal) -> JobDTO:
    """Cancel a pending or running job (write scope; restore scope for restores); 409 when finished."""
    async with connection(ctx.pool) as conn:
        row = await jobs_db.get(conn, job_id)
        if row is None:
            raise NotFoundError(f"job {job_id} not found")
        needed = "restore" if row["type"] == "snapshot_restore" else "write"
        if not actor.allows(needed):
            raise PermissionDeniedError(f"cancelling a {row['type']} job needs the '{needed}' scope")
        if not await jobs_db.cancel(conn, job_id):
            raise ConflictError(
                f"job {job_id} is already {row['status']}; only pending or running jobs can be cancelled",
                jobId=str(job_id),
                jobStatus=row["status"],
            )
        await audit.record(conn, actor, "job.cancel", "job", job_id, f"{row['type']} job cancelled")
        updated = await jobs_db.get(conn, job_id)
    if ctx.queue is not None:
        ctx.queue.hub.mark_cancelled(job_id)
    assert updated is not None
    return to_dto(updated)


async def job_events(ctx: ServiceContext, job_id: UUID) -> AsyncIterator[tuple[str, JobDTO]]:
    """("progress", job) whenever the job row changes, then ("done", job) once it is finished."""
    first = await get_job(ctx, job_id)
    queue = ctx.queue
    with queue.hub.subscribe(job_id) if queue is not None else contextlib.nullcontext() as wake:
        last: JobDTO | None = None
        job = first
        while True:
            if job != last:
                yield "progress", job
                last = job
            if job.status in TERMINAL:
                yield "done", job
                return
            if wake is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.get(), _POLL)
            else:
                await asyncio.sleep(_POLL)
            job = await get_job(ctx, job_id)


async def start_job_queue(ctx: ServiceContext, stack: contextlib.AsyncExitStack) -> JobQueue:
    """ctx.queue for this process: enqueue-only, or (role `worker`) also running jobs and schedules."""
    queue = JobQueue(
        ctx.pool,
        ctx.conninfo,
        run_worker=ctx.settings.has_role("worker"),
        retention_days=ctx.settings.job_retention_days,
    )
    register_job_types(queue, ctx)
    queue.add_periodic("schedules", lambda: run_due_schedules(ctx), 5.0)
    ctx.queue = queue
    await queue.start()
    stack.push_async_callback(queue.stop)
    return queue
