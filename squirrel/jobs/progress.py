"""What a running job sees: JobContext (progress, cancellation, checkpoint), JobOutcome, JobCancelled.

Progress is monotonic (also in SQL, GREATEST) and its database writes are throttled; every call wakes
in-process listeners (the SSE endpoint), which read the job row themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import msgspec
import structlog
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from squirrel.db import jobs as jobs_db
from squirrel.db.pool import connection
from squirrel.model import Principal

log = structlog.get_logger(__name__)
_WRITE_INTERVAL = 0.2  # seconds between progress writes to the job row
_CANCEL_POLL = 0.5  # seconds between cancellation checks against the database


class JobCancelled(Exception):
    """The job was cancelled (DELETE /v1/jobs/{id}); the task stops and writes nothing more."""


class JobOutcome(msgspec.Struct):
    result_id: UUID | None = None
    result: dict[str, Any] | None = None
    message: str = ""
    # What the job did not do as asked though it completed (e.g. PVs saved without a value).
    warnings: list[str] = msgspec.field(default_factory=list)


class ProgressHub:
    """In-process wake-ups per job id for listeners (SSE); losing one is harmless, they re-read the row."""

    def __init__(self) -> None:
        self._subs: dict[UUID, set[asyncio.Queue[None]]] = {}
        self.cancelled: set[UUID] = set()

    @contextmanager
    def subscribe(self, job_id: UUID) -> Iterator[asyncio.Queue[None]]:
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._subs.setdefault(job_id, set()).add(queue)
        try:
            yield queue
        finally:
            subs = self._subs.get(job_id)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    self._subs.pop(job_id, None)

    def publish(self, job_id: UUID) -> None:
        for queue in self._subs.get(job_id, ()):
            if queue.empty():
                queue.put_nowait(None)

    def mark_cancelled(self, job_id: UUID) -> None:
        self.cancelled.add(job_id)
        self.publish(job_id)


class JobContext:
    """Handed to a task function with the ServiceContext."""

    def __init__(
        self,
        *,
        job_id: UUID,
        job_type: str,
        job_data: dict[str, Any],
        attempt: int,
        actor_name: str,
        checkpoint: dict[str, Any] | None,
        pool: AsyncConnectionPool,
        hub: ProgressHub,
    ) -> None:
        self.job_id = job_id
        self.job_type = job_type
        self.job_data = job_data
        self.attempt = attempt
        self.actor_name = actor_name
        # What an earlier attempt saved with save_checkpoint (e.g. restore: PVs already written).
        self.checkpoint = checkpoint
        self._pool = pool
        self._hub = hub
        self._percent = 0
        self._last_write = 0.0
        self._last_check = time.monotonic()
        self._cancelled = False
        self.completed = False

    @property
    def actor(self) -> Principal:
        """Who enqueued the job, for audit rows written by the task."""
        return Principal(name=self.actor_name, scopes=frozenset())

    async def progress(self, percent: float, message: str) -> None:
        """Report progress (clamped to 0..100, never lower than before) and what is happening."""
        value = max(self._percent, min(100, max(0, int(percent))))
        self._percent = value
        now = time.monotonic()
        if now - self._last_write < _WRITE_INTERVAL and value < 100:
            return
        self._last_write = now
        async with connection(self._pool) as conn:
            still_running = await jobs_db.progress(conn, self.job_id, value, message)
        if not still_running:
            self._cancelled = True
        self._hub.publish(self.job_id)

    async def check_cancelled(self) -> None:
        """Raise JobCancelled when the job was cancelled (checked locally, and in the database at most 2/s)."""
        if self._cancelled or self.job_id in self._hub.cancelled:
            raise JobCancelled(f"job {self.job_id} was cancelled")
        now = time.monotonic()
        if now - self._last_check < _CANCEL_POLL:
            return
        self._last_check = now
        async with connection(self._pool) as conn:
            row = await jobs_db.status(conn, self.job_id)
        if row is None or row[0] != "running":
            self._cancelled = True
            raise JobCancelled(f"job {self.job_id} was cancelled")

    async def save_checkpoint(self, data: dict[str, Any], conn: AsyncConnection[Any] | None = None) -> None:
        """Persist task state for a retried attempt (read back as `checkpoint`); in `conn`'s transaction if given."""
        self.checkpoint = data
        if conn is not None:
            ok = await jobs_db.checkpoint(conn, self.job_id, data)
        else:
            async with connection(self._pool) as own:
                ok = await jobs_db.checkpoint(own, self.job_id, data)
        if not ok:
            self._cancelled = True
            raise JobCancelled(f"job {self.job_id} was cancelled")

    async def complete_in(self, conn: AsyncConnection[Any], outcome: JobOutcome) -> None:
        """Mark the job completed inside the caller's transaction, so its result and the job commit together.

        Raises JobCancelled (rolling the caller's transaction back) if the job is no longer running.
        """
        ok = await jobs_db.complete(
            conn, self.job_id, outcome.message, outcome.result_id, outcome.result, outcome.warnings
        )
        if not ok:
            self._cancelled = True
            raise JobCancelled(f"job {self.job_id} is no longer running")
        self.completed = True
