"""squirrel jobs list | watch | cancel, and squirrel health."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from squirrel.cli.ops.common import INCOMPLETE, OK, UNREACHABLE, Ops, UsageError, leaf
from squirrel.cli.ops.progress import follow
from squirrel.cli.ops.render import table, when
from squirrel.client import ApiError, Job


def job_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise UsageError(f"not a job id: {text!r}") from None


def job_exit(job: Job) -> int:
    """0 only for a completed job that did everything (a restore with failures is 1 on any server)."""
    outcome = job.restore_outcome()
    if job.status != "completed" or (outcome is not None and outcome.failure_count > 0):
        return INCOMPLETE
    return OK


def _jobs_table(ops: Ops, jobs: list[Job]) -> None:
    t = table("id", "type", "status", "%", "created (UTC)", "by", "message")
    for j in jobs:
        t.add_row(str(j.id), j.type, j.status, str(j.progress), when(j.created_at), j.created_by, j.error or j.message)
    ops.out.print(t)


def cmd_list(ops: Ops) -> int:
    a = ops.args
    jobs = ops.client.list_jobs(a.status, a.type, a.limit)
    ops.emit(jobs, lambda: _jobs_table(ops, jobs))
    return OK


def cmd_watch(ops: Ops) -> int:
    job = follow(ops, job_id(ops.args.id), "job")
    ops.emit(job, lambda: _jobs_table(ops, [job]))
    return job_exit(job)


def cmd_cancel(ops: Ops) -> int:
    job = ops.client.cancel_job(job_id(ops.args.id))
    ops.emit(job, lambda: _jobs_table(ops, [job]))
    return OK


def cmd_health(ops: Ops) -> int:
    client = ops.client
    try:
        ready: dict[str, Any] = client.readyz()
    except ApiError as exc:
        if exc.status != 503:
            raise
        ready = {"ready": False, **exc.extra, "detail": exc.detail}
    summary = client.health("summary")
    heartbeat = client.health("heartbeat")
    doc = {"ready": ready, "heartbeat": heartbeat, "summary": summary}

    def render() -> None:
        t = table("check", "value")
        t.add_row("ready", str(ready.get("ready")))
        for key, value in ready.items():
            if key != "ready":
                t.add_row(f"  {key}", str(value))
        t.add_row("monitor alive", str(heartbeat.get("alive", heartbeat.get("monitor_alive"))))
        for key, value in summary.items():
            if not isinstance(value, list | dict):
                t.add_row(key, str(value))
        ops.out.print(t)

    ops.emit(doc, render)
    return OK if ready.get("ready") else UNREACHABLE


def register_jobs(sub: Any) -> None:
    p = leaf(sub, "list", cmd_list, "recent jobs, newest first")
    p.add_argument("--status", choices=("pending", "running", "completed", "failed", "cancelled"))
    p.add_argument("--type", choices=("snapshot_create", "snapshot_restore"))
    p.add_argument("--limit", type=int, default=20)
    p = leaf(sub, "watch", cmd_watch, "follow a job until it ends (exit 1 if it did not complete)")
    p.add_argument("id")
    p = leaf(sub, "cancel", cmd_cancel, "cancel a pending or running job")
    p.add_argument("id")
