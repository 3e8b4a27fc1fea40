"""The job record as the API serves it: list filters, get, cancel (scope, state) and the progress events."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from squirrel.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from squirrel.model import Principal
from squirrel.services import audit, jobs
from squirrel.services.context import ServiceContext

WRITER = Principal(name="writer", scopes=frozenset({"read", "write"}))
RESTORER = Principal(name="restorer", scopes=frozenset({"read", "restore"}))


async def _snapshot_job(ctx: ServiceContext, title: str = "t") -> UUID:
    assert ctx.queue is not None
    return await ctx.queue.enqueue("snapshot_create", {"title": title}, WRITER)


async def _restore_job(ctx: ServiceContext) -> UUID:
    assert ctx.queue is not None
    return await ctx.queue.enqueue("snapshot_restore", {"snapshotId": str(uuid4())}, RESTORER)


def test_the_job_types_are_the_registered_payload_kinds() -> None:
    assert jobs.JOB_TYPES == ("snapshot_create", "snapshot_restore")
    assert set(jobs.TERMINAL) < set(jobs.JOB_STATUSES)


async def test_list_filters_by_status_and_type_and_refuses_unknown_ones(queued_ctx: ServiceContext) -> None:
    ctx = queued_ctx
    assert await jobs.list_jobs(ctx, None, None, 10) == []
    snap = await _snapshot_job(ctx, "first")
    restore = await _restore_job(ctx)
    assert {j.id for j in await jobs.list_jobs(ctx, None, None, 10)} == {snap, restore}
    assert [j.id for j in await jobs.list_jobs(ctx, "pending", "snapshot_restore", 10)] == [restore]
    assert await jobs.list_jobs(ctx, "running", None, 10) == []
    assert len(await jobs.list_jobs(ctx, None, None, 1)) == 1
    with pytest.raises(ValidationError, match="status must be one of pending, running, completed, failed, cancelled"):
        await jobs.list_jobs(ctx, "done", None, 10)
    with pytest.raises(ValidationError, match="type must be one of snapshot_create, snapshot_restore, got 'x'"):
        await jobs.list_jobs(ctx, None, "x", 10)


async def test_a_job_reads_back_as_queued(queued_ctx: ServiceContext) -> None:
    job_id = await _snapshot_job(queued_ctx, "read back")
    job = await jobs.get_job(queued_ctx, job_id)
    assert (job.id, job.type, job.status, job.created_by) == (job_id, "snapshot_create", "pending", "writer")
    assert job.job_data == {"title": "read back"} and job.warnings == [] and job.result is None
    missing = uuid4()
    with pytest.raises(NotFoundError, match=f"job {missing} not found"):
        await jobs.get_job(queued_ctx, missing)


async def test_cancel_needs_the_scope_of_the_job_type(queued_ctx: ServiceContext) -> None:
    ctx = queued_ctx
    restore = await _restore_job(ctx)
    with pytest.raises(PermissionDeniedError, match="cancelling a snapshot_restore job needs the 'restore' scope"):
        await jobs.cancel_job(ctx, restore, WRITER)
    snap = await _snapshot_job(ctx)
    with pytest.raises(PermissionDeniedError, match="needs the 'write' scope"):
        await jobs.cancel_job(ctx, snap, RESTORER)
    assert (await jobs.get_job(ctx, restore)).status == "pending"
    cancelled = await jobs.cancel_job(ctx, restore, RESTORER)
    assert cancelled.status == "cancelled" and cancelled.completed_at is not None
    entries, _ = await audit.list_entries(ctx, None, "restorer", "job.cancel", 10, 0)
    assert [(e.resource_id, e.summary) for e in entries] == [(str(restore), "snapshot_restore job cancelled")]


async def test_a_finished_job_cannot_be_cancelled_and_an_unknown_one_is_not_found(
    queued_ctx: ServiceContext,
) -> None:
    ctx = queued_ctx
    snap = await _snapshot_job(ctx)
    await jobs.cancel_job(ctx, snap, WRITER)
    with pytest.raises(ConflictError, match="already cancelled; only pending or running") as caught:
        await jobs.cancel_job(ctx, snap, WRITER)
    assert caught.value.extra == {"jobId": str(snap), "jobStatus": "cancelled"}
    missing = uuid4()
    with pytest.raises(NotFoundError, match=f"job {missing} not found"):
        await jobs.cancel_job(ctx, missing, WRITER)


async def test_events_of_a_finished_job_are_its_state_then_done(queued_ctx: ServiceContext) -> None:
    ctx = queued_ctx
    snap = await _snapshot_job(ctx)
    await jobs.cancel_job(ctx, snap, WRITER)
    events = [(kind, job.status) async for kind, job in jobs.job_events(ctx, snap)]
    assert events == [("progress", "cancelled"), ("done", "cancelled")]
    with pytest.raises(NotFoundError):
        async for _ in jobs.job_events(ctx, uuid4()):
            pass


async def test_events_follow_a_pending_job_until_it_is_cancelled(queued_ctx: ServiceContext) -> None:
    ctx = queued_ctx
    snap = await _snapshot_job(ctx)
    seen: list[tuple[str, str]] = []
    async for kind, job in jobs.job_events(ctx, snap):
        seen.append((kind, job.status))
        if kind == "progress" and job.status == "pending":
            await jobs.cancel_job(ctx, snap, WRITER)  # wakes the stream through the queue's hub
    assert seen == [("progress", "pending"), ("progress", "cancelled"), ("done", "cancelled")]
