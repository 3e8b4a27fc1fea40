"""Taking snapshots (inline or as a job), and their metadata: list, update, delete.

A snapshot is written in one transaction (row + binary COPY of values + audit [+ job completion]), so
it is complete or absent. A job's snapshot is keyed by the job id: a retried attempt finds it and stops.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import msgspec
from psycopg import AsyncConnection

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.epics.cache import PVState
from squirrel.errors import NotFoundError, PermissionDeniedError, UnavailableError, ValidationError
from squirrel.jobs.progress import JobContext, JobOutcome
from squirrel.model import (
    DeletedDTO,
    JobQueued,
    NewSnapshotBody,
    Principal,
    SnapshotSummaryDTO,
    UpdateSnapshotBody,
)
from squirrel.services import audit
from squirrel.services.context import ServiceContext
from squirrel.services.snapshot_codec import missing_state, sides_writer

JOB_TYPE = "snapshot_create"
JOB_TIMEOUT = 600.0
GOLDEN = "golden"
MAX_TEXT = 10_000
MAX_NAME = 255


class SnapshotSpec(msgspec.Struct, kw_only=True):
    """What to snapshot (also the job's job_data)."""

    title: str
    description: str | None = None
    comment: str | None = None
    labels: list[str] = msgspec.field(default_factory=list)
    pv_ids: list[UUID] | None = None
    tag_ids: list[UUID] | None = None
    use_cache: bool = True


def _labels(labels: list[str] | None) -> list[str]:
    out: list[str] = []
    for raw in labels or []:
        label = raw.strip()
        if not label or len(label) > MAX_NAME:
            raise ValidationError(f"labels: each label must be 1..{MAX_NAME} characters, got {raw!r}")
        if label not in out:
            out.append(label)
    return out


def _title(title: str) -> str:
    clean = title.strip()
    if not clean:
        raise ValidationError("title must not be empty")
    if len(clean) > MAX_NAME:
        raise ValidationError(f"title must be at most {MAX_NAME} characters")
    return clean


def _text(name: str, value: str | None) -> str | None:
    if value is not None and len(value) > MAX_TEXT:
        raise ValidationError(f"{name} must be at most {MAX_TEXT:,} characters, got {len(value):,}")
    return value


def _check_golden(actor: Principal, before: list[str], after: list[str]) -> None:
    if (GOLDEN in before) != (GOLDEN in after) and not actor.allows("admin"):
        raise PermissionDeniedError("setting or clearing the 'golden' label needs the 'admin' scope")


def spec_from_body(body: NewSnapshotBody, use_cache: bool, actor: Principal) -> SnapshotSpec:
    labels = _labels(body.labels)
    _check_golden(actor, [], labels)
    return SnapshotSpec(
        title=_title(body.title),
        description=_text("description", body.description),
        comment=_text("comment", body.comment),
        labels=labels,
        pv_ids=list(dict.fromkeys(body.pv_ids)) if body.pv_ids is not None else None,
        tag_ids=list(dict.fromkeys(body.tags)) if body.tags is not None else None,
        use_cache=use_cache,
    )


def summary(row: dict[str, Any]) -> SnapshotSummaryDTO:
    return SnapshotSummaryDTO(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        comment=row["comment"],
        labels=list(row["labels"]),
        created_date=row["created_at"],
        created_by=row["created_by"],
        pv_count=row["pv_count"],
        source=row["source"],
    )


async def _select(ctx: ServiceContext, spec: SnapshotSpec) -> list[snap_db.PVRow]:
    async with connection(ctx.pool) as conn:
        pvs = await snap_db.select_pvs(conn, spec.pv_ids, spec.tag_ids)
    if spec.pv_ids:
        found = {row[0] for row in pvs}
        unknown = [str(i) for i in spec.pv_ids if i.bytes not in found]
        if unknown:
            raise ValidationError(f"pvIds: unknown PV ids: {', '.join(unknown[:20])}", unknown=unknown[:100])
    return pvs


async def enqueue(ctx: ServiceContext, spec: SnapshotSpec, actor: Principal, *, key: str | None = None) -> JobQueued:
    """Validate the selection now (400 at once), then queue the job."""
    if spec.pv_ids:
        await _select(ctx, SnapshotSpec(title=spec.title, pv_ids=spec.pv_ids, tag_ids=[]))
    if ctx.queue is None:
        raise UnavailableError("the job queue is not running in this process")
    job_id = await ctx.queue.enqueue(JOB_TYPE, msgspec.to_builtins(spec), actor, key=key)
    return JobQueued(job_id=job_id, message=f"Snapshot '{spec.title}' queued")


async def snapshot_job(ctx: ServiceContext, job: JobContext) -> JobOutcome:
    """The snapshot_create task."""
    spec = msgspec.convert(job.job_data, SnapshotSpec)
    row = await take_snapshot(ctx, spec, job.actor, job)
    return _outcome(summary(row))


def _outcome(s: SnapshotSummaryDTO) -> JobOutcome:
    return JobOutcome(
        result_id=s.id,
        result={"snapshotId": str(s.id), "pvCount": s.pv_count, "source": s.source},
        message=f"Snapshot '{s.title}' saved: {s.pv_count:,} PVs",
    )


async def _read(ctx: ServiceContext, pvs: list[snap_db.PVRow], use_cache: bool) -> Callable[[str], PVState | None]:
    """A lookup of each address's state: the live cache itself, or the result of one batched direct read."""
    if use_cache:
        return ctx.cache.get
    from squirrel.services import pv_io as ca  # CA and pva:// addresses, dispatched by protocol

    addresses = list({a for row in pvs for a in (row[1], row[2]) if a})
    states: dict[str, PVState] = await ca.read_many(addresses, ctx.settings.ca_timeout, breakers=ctx.breakers)
    return states.get


async def take_snapshot(
    ctx: ServiceContext, spec: SnapshotSpec, actor: Principal, job: JobContext | None = None, *, source: str = ""
) -> dict[str, Any]:
    """Read the selected PVs and store them; returns the snapshot row. Used inline, by jobs, by restore."""
    if job is not None:
        async with connection(ctx.pool) as conn:
            done = await snap_db.by_job(conn, job.job_id)
        if done is not None:  # an earlier attempt committed it (with its job completion)
            return done
    pvs = await _select(ctx, spec)  # in PV-name order
    if job is not None:
        await job.progress(5, f"Selected {len(pvs):,} PVs")
    lookup = await _read(ctx, pvs, spec.use_cache)
    if job is not None:
        await job.progress(60, f"Read {len(pvs):,} / {len(pvs):,} PVs")
        await job.check_cancelled()
    now = time.time() if spec.use_cache else None
    absent = missing_state("not monitored" if spec.use_cache else "not read")
    # Each side is encoded straight into the COPY buffer (no per-PV objects kept).
    write_sides = sides_writer(lookup, now, absent)
    source = source or ("cache" if spec.use_cache else "direct")
    return await _store(
        ctx, spec, len(pvs), actor, source, job, lambda conn, sid: snap_db.copy_selected(conn, sid, pvs, write_sides)
    )


async def store_rows(
    ctx: ServiceContext,
    spec: SnapshotSpec,
    rows: list[snap_db.StoreRow],
    actor: Principal,
    source: str,
    job: JobContext | None = None,
) -> dict[str, Any]:
    """Store already encoded rows (in name order, PV ids as raw 16 bytes) as a new snapshot."""
    return await _store(ctx, spec, len(rows), actor, source, job, lambda conn, sid: snap_db.copy_raw(conn, sid, rows))


async def _store(
    ctx: ServiceContext,
    spec: SnapshotSpec,
    count: int,
    actor: Principal,
    source: str,
    job: JobContext | None,
    copy: Callable[[AsyncConnection[Any], UUID], Awaitable[int]],
) -> dict[str, Any]:
    """Write snapshot + values (+ audit, + the job's completion) in one transaction."""
    snapshot_id = uuid4()
    async with connection(ctx.pool) as conn:
        row = await snap_db.insert(
            conn,
            {
                "id": snapshot_id,
                "job_id": job.job_id if job is not None else None,
                "title": spec.title,
                "description": spec.description,
                "comment": spec.comment,
                "labels": spec.labels,
                "created_by": actor.name,
                "source": source,
                "pv_count": count,
            },
        )
        await copy(conn, snapshot_id)
        await snap_db.set_tags(conn, snapshot_id)
        await audit.record(
            conn, actor, "snapshot.create", "snapshot", snapshot_id, f"'{spec.title}': {count:,} PVs ({source})"
        )
        if job is not None:
            await job.complete_in(conn, _outcome(summary(row)))
    return row


async def create_inline(ctx: ServiceContext, spec: SnapshotSpec, actor: Principal) -> SnapshotSummaryDTO:
    return summary(await take_snapshot(ctx, spec, actor))


async def get_summary(ctx: ServiceContext, snapshot_id: UUID) -> SnapshotSummaryDTO:
    async with connection(ctx.pool) as conn:
        row = await snap_db.get(conn, snapshot_id)
    if row is None:
        raise NotFoundError(f"snapshot {snapshot_id} not found")
    return summary(row)


async def list_snapshots(
    ctx: ServiceContext, title: str | None, tags: list[UUID], labels: list[str], limit: int, offset: int
) -> list[SnapshotSummaryDTO]:
    async with connection(ctx.pool) as conn:
        rows = await snap_db.list_page(conn, title or None, tags or None, labels or None, limit, offset)
    return [summary(r) for r in rows]


async def update(
    ctx: ServiceContext, snapshot_id: UUID, body: UpdateSnapshotBody, actor: Principal
) -> SnapshotSummaryDTO:
    async with connection(ctx.pool) as conn:
        row = await snap_db.get(conn, snapshot_id, for_update=True)
        if row is None:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
        before = list(row["labels"])
        labels = before if body.labels is msgspec.UNSET else _labels(body.labels)
        _check_golden(actor, before, labels)
        values: dict[str, Any] = {
            "title": row["title"] if body.title is msgspec.UNSET else _title(body.title),
            "description": row["description"]
            if body.description is msgspec.UNSET
            else _text("description", body.description),
            "comment": row["comment"] if body.comment is msgspec.UNSET else _text("comment", body.comment),
            "labels": labels,
        }
        updated = await snap_db.update(conn, snapshot_id, values)
        assert updated is not None
        changed = ", ".join(k for k in values if values[k] != row[k]) or "nothing"
        await audit.record(conn, actor, "snapshot.update", "snapshot", snapshot_id, f"changed {changed}")
    return summary(updated)


async def delete(ctx: ServiceContext, snapshot_id: UUID, actor: Principal) -> DeletedDTO:
    async with connection(ctx.pool) as conn:
        row = await snap_db.get(conn, snapshot_id, for_update=True)
        if row is None:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
        if GOLDEN in row["labels"] and not actor.allows("admin"):
            raise PermissionDeniedError("deleting a 'golden' snapshot needs the 'admin' scope")
        await snap_db.delete(conn, snapshot_id)
        await audit.record(conn, actor, "snapshot.delete", "snapshot", snapshot_id, f"'{row['title']}'")
    return DeletedDTO(id=snapshot_id)
