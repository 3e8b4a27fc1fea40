"""Running a job's task by hand in a test, as the worker would after starting it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from squirrel.jobs.progress import JobContext, ProgressHub


def restore_job_context(ctx: Any, job_id: UUID, row: dict[str, Any]) -> JobContext:
    """The JobContext of a snapshot_restore job from its started row (db.jobs.start)."""
    return JobContext(
        job_id=job_id,
        job_type="snapshot_restore",
        job_data=row["job_data"],
        attempt=row["attempt"],
        actor_name=row["created_by"],
        checkpoint=row["checkpoint"],
        pool=ctx.pool,
        hub=ProgressHub(),
    )
