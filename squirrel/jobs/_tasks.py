"""Running one job: the function SAQ calls, which owns the job row's life cycle.

Exactly-once execution rests on two guards: a session advisory lock per job id (held by the running
worker's dedicated connection, so a killed process releases it at once) and conditional status updates
(`WHERE status = 'running'`), so a cancelled or finished job is never overwritten or re-run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

import structlog

from squirrel.db import jobs as jobs_db
from squirrel.db.pool import DatabaseError, connection, is_transient
from squirrel.errors import SquirrelError
from squirrel.jobs.progress import JobCancelled, JobContext, JobOutcome

if TYPE_CHECKING:
    from squirrel.jobs.queue import JobQueue

log = structlog.get_logger(__name__)

TaskFn = Callable[[JobContext], Awaitable[JobOutcome]]


@dataclass(frozen=True)
class TaskSpec:
    fn: TaskFn
    timeout: float
    attempts: int


def lock_key(job_id: UUID) -> int:
    """The advisory lock id of a job (64 bits of its UUID)."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


async def run_job(queue: JobQueue, job_id: UUID) -> None:
    """Run job `job_id` unless it runs elsewhere, is finished, or was cancelled."""
    if job_id in queue.local_running:
        return
    queue.local_running.add(job_id)
    locked = False
    try:
        locked = await queue.try_lock(job_id)
        if not locked:
            return
        await _run_locked(queue, job_id)
    finally:
        queue.local_running.discard(job_id)
        if locked:
            await queue.unlock(job_id)
        queue.hub.publish(job_id)


async def _run_locked(queue: JobQueue, job_id: UUID) -> None:
    pool = queue.pool
    async with connection(pool) as conn:
        row = await jobs_db.start(conn, job_id)
    if row is None:
        return
    queue.hub.publish(job_id)
    spec = queue.tasks.get(row["type"])
    if spec is None:
        await _fail(queue, job_id, f"no task is registered for job type {row['type']!r}")
        return
    jctx = JobContext(
        job_id=job_id,
        job_type=row["type"],
        job_data=row["job_data"],
        attempt=row["attempt"],
        actor_name=row["created_by"],
        checkpoint=row["checkpoint"],
        pool=pool,
        hub=queue.hub,
    )
    log.info("job started", job_id=str(job_id), type=row["type"], attempt=row["attempt"])
    timer = asyncio.timeout(spec.timeout)
    try:
        async with timer:
            outcome = await spec.fn(jctx)
        if not jctx.completed:
            async with connection(pool) as conn:
                await jctx.complete_in(conn, outcome)
        log.info("job completed", job_id=str(job_id), message=outcome.message)
    except JobCancelled:
        log.info("job cancelled", job_id=str(job_id))
    except TimeoutError as exc:
        reason = f"timed out after {spec.timeout:g} s" if timer.expired() else f"timed out: {exc}"
        await _fail(queue, job_id, reason)
    except Exception as exc:
        if is_transient(exc) and row["attempt"] < row["max_attempts"]:
            log.warning("job attempt failed; will retry", job_id=str(job_id), error=str(exc))
            try:
                async with connection(pool) as conn:
                    await jobs_db.requeue(conn, job_id, f"Attempt {row['attempt']} failed; retrying", str(exc))
            except (SquirrelError, DatabaseError):
                # Still down: the row stays 'running' with no lock holder, and recovery re-dispatches it.
                pass
            raise
        if isinstance(exc, SquirrelError):
            await _fail(queue, job_id, exc.detail)
        else:
            log.exception("job failed", job_id=str(job_id))
            await _fail(queue, job_id, f"{type(exc).__name__}: {exc}")


async def _fail(queue: JobQueue, job_id: UUID, error: str) -> None:
    log.warning("job failed", job_id=str(job_id), error=error)
    try:
        async with connection(queue.pool) as conn:
            await jobs_db.fail(conn, job_id, f"Failed: {error}"[:2000], error)
    except (SquirrelError, DatabaseError) as exc:
        log.error("could not record job failure", job_id=str(job_id), error=str(exc))
