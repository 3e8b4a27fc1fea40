"""The job queue: our `job` table is the record, SAQ on PostgreSQL dispatches, the worker runs in-process.

Every process gets a JobQueue so it can enqueue; only the `worker` role runs the SAQ
worker, the recovery pass (stale 'running'/'pending' jobs after a crash are re-dispatched) and the
periodic upkeep (job retention purge, registered callbacks such as the schedule loop), and the sweep of
SAQ rows left 'active' by a worker that is gone (a SIGKILLed process never finishes its dispatch).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool
from saq import Job, Worker
from saq.job import Status
from saq.queue.postgres import PostgresQueue
from saq.types import Context

from squirrel.db import jobs as jobs_db
from squirrel.db.pool import connection
from squirrel.errors import SquirrelError, UnavailableError, ValidationError
from squirrel.jobs._locks import LOCK_CHECK_INTERVAL, JobLocks
from squirrel.jobs._tasks import TaskFn, TaskSpec, run_job
from squirrel.jobs.progress import ProgressHub
from squirrel.model import Principal

log = structlog.get_logger(__name__)
SAQ_FUNCTION = "squirrel_job"
QUEUE_NAME = "squirrel"
SAQ_APPLICATION_NAME = "squirrel-saq"  # names SAQ's connections in pg_stat_activity
RECOVERY_INTERVAL = 5.0
RECOVERY_MIN_AGE = 2.0  # seconds: leave a just-inserted job to its own enqueue
PURGE_INTERVAL = 3600.0
SWEEP_MIN_AGE = 10.0  # seconds a dispatch must have been active: a live one holds its job's lock by then
_WAITING = {Status.NEW, Status.QUEUED}


class _InProcessWorker(Worker[Context]):
    # Worker.start() would steal SIGINT/SIGTERM from uvicorn.
    SIGNALS: list[Any] = []


class JobQueue:
    def __init__(
        self, pool: AsyncConnectionPool, conninfo: str, *, run_worker: bool, retention_days: int, concurrency: int = 4
    ) -> None:
        # The services wire the queue in: it takes the pool and database it needs, never their context.
        self.pool = pool
        self.conninfo = conninfo
        self.retention_days = retention_days
        self.run_worker = run_worker
        self.concurrency = concurrency
        self.hub = ProgressHub()
        self.tasks: dict[str, TaskSpec] = {}
        self.local_running: set[UUID] = set()
        self.running = False
        self._saq: PostgresQueue | None = None
        self._saq_pool: AsyncConnectionPool | None = None
        self._worker: _InProcessWorker | None = None
        self.locks: JobLocks | None = None  # the worker's job locks (see squirrel.jobs._locks)
        self._background: list[asyncio.Task[None]] = []
        self._periodic: list[tuple[str, Callable[[], Awaitable[object]], float]] = []

    # --- configuration ----------------------------------------------------------------------
    def register(self, job_type: str, fn: TaskFn, timeout: float, *, attempts: int = 3) -> None:
        """Register the task for a job type (bound to what it needs, e.g. with functools.partial);
        `timeout` bounds one attempt, `attempts` counts all tries."""
        self.tasks[job_type] = TaskSpec(fn=fn, timeout=timeout, attempts=max(1, attempts))

    def add_periodic(self, name: str, fn: Callable[[], Awaitable[object]], interval: float) -> None:
        """Run `fn` every `interval` seconds while the worker runs (register before start())."""
        self._periodic.append((name, fn, interval))

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        conninfo = self.conninfo
        # SAQ forces autocommit on its pool: it gets its own, small one. Each connection is checked as it
        # leaves the pool, so one left dead by a database restart is replaced instead of failing SAQ's call.
        self._saq_pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=self.concurrency + 4,
            open=False,
            name="saq",
            kwargs={"autocommit": True, "application_name": SAQ_APPLICATION_NAME},
            check=AsyncConnectionPool.check_connection,
        )
        await self._saq_pool.open(wait=True, timeout=30.0)
        self._saq = PostgresQueue(self._saq_pool, name=QUEUE_NAME)
        await self._saq.connect()
        if self.run_worker:
            self.locks = JobLocks(conninfo)
            await self.locks.open()
            self._worker = _InProcessWorker(
                self._saq,
                functions=[(SAQ_FUNCTION, self._saq_entry)],
                concurrency=self.concurrency,
                timers={"sweep": 30, "abort": 1, "schedule": 1, "worker_info": 10},
            )
            # Jobs left running by a killed process are re-dispatched before the service reports started.
            await self._once("recovery", self.recover)
            await self._once("purge", self.purge)
            await self._once("sweep", self.sweep_dispatches)
            self._background.append(asyncio.create_task(self._worker.start(), name="saq-worker"))
            self._background.append(asyncio.create_task(self._every("recovery", self.recover, RECOVERY_INTERVAL)))
            self._background.append(asyncio.create_task(self._every("sweep", self.sweep_dispatches, RECOVERY_INTERVAL)))
            self._background.append(asyncio.create_task(self._every("purge", self.purge, PURGE_INTERVAL)))
            self._background.append(asyncio.create_task(self._every("locks", self.locks.keep, LOCK_CHECK_INTERVAL)))
            for name, fn, interval in self._periodic:
                self._background.append(asyncio.create_task(self._every(name, fn, interval)))
        self.running = True
        log.info("job queue started", worker=self.run_worker)

    async def stop(self) -> None:
        self.running = False
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await self._worker.stop()
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        if self._saq is not None:
            with contextlib.suppress(Exception):
                await self._saq.disconnect()
        if self._saq_pool is not None:
            await self._saq_pool.close()
        if self.locks is not None:
            await self.locks.close()

    # --- enqueue ----------------------------------------------------------------------------
    async def enqueue(
        self, job_type: str, job_data: dict[str, Any], actor: Principal, *, key: str | None = None
    ) -> UUID:
        """Record a pending job and hand it to SAQ; the same `key` twice returns the first job's id."""
        spec = self.tasks.get(job_type)
        if spec is None:
            raise ValidationError(f"unknown job type {job_type!r}")
        job_id = uuid4()
        async with connection(self.pool) as conn:
            job_id, created = await jobs_db.insert(conn, job_id, job_type, job_data, actor.name, key, spec.attempts)
        if created:
            # Should this fail, the pending row stays and a worker's recovery pass dispatches it.
            await self._dispatch(job_id, spec, str(job_id))
        return job_id

    async def _dispatch(self, job_id: UUID, spec: TaskSpec, saq_key: str) -> None:
        if self._saq is None:
            raise UnavailableError("the job queue is not started")
        job = Job(
            function=SAQ_FUNCTION,
            kwargs={"job_id": str(job_id)},
            key=saq_key,
            # Our own timeout (asyncio.timeout in the runner) fires first; SAQ's is the safety net.
            timeout=int(spec.timeout) + 30,
            retries=spec.attempts,
            retry_delay=1.0,
            retry_backoff=10.0,
            ttl=3600,
        )
        try:
            await self._saq.enqueue(job)
        except psycopg.Error as exc:
            raise UnavailableError(f"could not queue job {job_id}: {exc}") from exc

    async def _saq_entry(self, saq_ctx: Context, *, job_id: str) -> None:
        await run_job(self, UUID(job_id))

    # --- advisory locks (held on one dedicated connection per worker process) ------------------
    async def try_lock(self, job_id: UUID) -> bool:
        if self.locks is None:  # only the worker opens them at start; anyone else on first use
            self.locks = JobLocks(self.conninfo)
        return await self.locks.try_lock(job_id)

    async def unlock(self, job_id: UUID) -> None:
        if self.locks is not None:
            await self.locks.unlock(job_id)

    # --- upkeep -----------------------------------------------------------------------------
    async def recover(self) -> int:
        """Re-dispatch unfinished jobs that no worker holds and SAQ is not about to run; returns how many."""
        if self._saq is None:
            return 0
        async with connection(self.pool) as conn:
            rows = await jobs_db.unfinished(conn, RECOVERY_MIN_AGE)
        count = 0
        for row in rows:
            job_id: UUID = row["id"]
            if job_id in self.local_running or not await self.try_lock(job_id):
                continue
            await self.unlock(job_id)
            saq_job = await self._saq.job(row["saq_key"]) if row["saq_key"] else None
            if saq_job is not None and saq_job.status in _WAITING:
                continue
            spec = self.tasks.get(row["type"])
            if spec is None:
                continue
            saq_key = f"{job_id}:{uuid4().hex[:12]}"
            async with connection(self.pool) as conn:
                await jobs_db.set_saq_key(conn, job_id, saq_key)
            await self._dispatch(job_id, spec, saq_key)
            log.warning("recovered unfinished job", job_id=str(job_id), status=row["status"])
            count += 1
        return count

    async def sweep_dispatches(self) -> int:
        """Close the SAQ rows still 'active' whose worker is gone; returns how many.

        A running job holds its advisory lock (recover() tests the same lock), so an active row whose job
        lock is free, not run by this process, and older than SWEEP_MIN_AGE has no live worker: a peer's
        running job is never touched. The row ends 'failed', not 'aborted': should a worker still be
        behind it after all, SAQ would cancel its task on 'aborted', while its own finish overwrites this."""
        if self._saq is None:
            return 0
        cutoff = (time.time() - SWEEP_MIN_AGE) * 1000  # SAQ keeps times in epoch milliseconds
        active = [job async for job in self._saq.iter_jobs([Status.ACTIVE]) if job.started and job.started < cutoff]
        count = 0
        for saq_job in active:
            job_id = _job_id_of(saq_job.key)
            if job_id is None or job_id in self.local_running or not await self.try_lock(job_id):
                continue
            await self.unlock(job_id)
            await self._saq.finish(saq_job, Status.FAILED, error="swept: the worker running it is gone")
            log.warning("swept a dispatch whose worker is gone", job_id=str(job_id), saq_key=saq_job.key)
            count += 1
        return count

    async def purge(self) -> None:
        async with connection(self.pool) as conn:
            removed = await jobs_db.purge(conn, self.retention_days)
        if removed:
            log.info("purged finished jobs", count=removed, retention_days=self.retention_days)

    async def _every(self, name: str, fn: Callable[[], Awaitable[Any]], interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._once(name, fn)

    async def _once(self, name: str, fn: Callable[[], Awaitable[Any]]) -> None:
        try:
            await fn()
        except (SquirrelError, psycopg.Error, OSError) as exc:
            log.warning("periodic task failed", task=name, error=str(exc))
        except Exception:
            log.exception("periodic task crashed", task=name)


def _job_id_of(saq_key: str) -> UUID | None:
    """Our job's id from a SAQ key (`<job id>` or `<job id>:<suffix>` after a re-dispatch)."""
    try:
        return UUID(saq_key.split(":", 1)[0])
    except ValueError:
        return None
