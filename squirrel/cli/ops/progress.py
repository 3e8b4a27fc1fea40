"""Following a job on the terminal: one progress bar per stage (stderr), the finished job returned."""

from __future__ import annotations

import re
from uuid import UUID

from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from squirrel.cli.ops.common import Ops
from squirrel.client import Job

_STAGE = re.compile(r"\((stage \d+/\d+)")


def stage_of(job: Job, default: str) -> str:
    """Which bar a progress message belongs to: the backup, a restore stage, or the job as a whole."""
    if job.message.startswith("Taking backup"):
        return "backup"
    m = _STAGE.search(job.message)
    return m.group(1) if m else default


def follow(ops: Ops, job_id: UUID, label: str) -> Job:
    columns = (
        TextColumn("{task.description:<12}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}", markup=False),
    )
    with Progress(*columns, console=ops.err, transient=False) as bars:
        tasks: dict[str, TaskID] = {}
        current: list[str] = []

        def show(job: Job) -> None:
            if job.finished:  # the last bar is completed below; the verb reports the outcome itself
                return
            key = stage_of(job, label)
            if key not in tasks:
                if current:
                    bars.update(tasks[current[-1]], completed=100)
                tasks[key] = bars.add_task(key, total=100, message="")
                current.append(key)
            bars.update(tasks[key], completed=job.progress, message=job.message[:80])

        job = ops.client.wait_job(job_id, show)
        if current:
            bars.update(tasks[current[-1]], completed=100 if job.status == "completed" else None)
    return job
