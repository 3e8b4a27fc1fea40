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
import structlog

from squirrel.addresses import protocol_of
from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.db.rows import Conn, Page, Row, as_struct
from squirrel.errors import ConflictError, NotFoundError, PermissionDeniedError, UnavailableError, ValidationError
from squirrel.jobs.payloads import SNAPSHOT_JOB, job_data, parse
from squirrel.jobs.payloads import SnapshotSpec as SnapshotSpec  # the service's input, re-exported
from squirrel.jobs.progress import JobContext, JobOutcome
from squirrel.model import (
    DeletedDTO,
    JobQueued,
    MissingDTO,
    NewSnapshotBody,
    Principal,
    SnapshotHeaderDTO,
    SnapshotSummaryDTO,
    UpdateSnapshotBody,
)
from squirrel.pv import PVState
from squirrel.services import _pv_io as ca  # CA and pva:// addresses, dispatched by protocol
from squirrel.services import audit
from squirrel.services._common import found
from squirrel.services.context import ServiceContext
from squirrel.services.monitoring import wait_warm
from squirrel.services.snapshots.codec import (
    MissingTally,
    missing_reasons,
    missing_state,
    missing_text,
    missing_warnings,
    sides_writer,
    tally_states,
)

JOB_TYPE = SNAPSHOT_JOB
JOB_TIMEOUT = 600.0
GOLDEN = "golden"
MAX_TEXT = 10_000
MAX_NAME = 255

log = structlog.get_logger(__name__)


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


def spec_from_body(
    body: NewSnapshotBody, use_cache: bool, actor: Principal, require_complete: bool = False
) -> SnapshotSpec:
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
        require_complete=require_complete,
    )


def stored_header(row: Row) -> SnapshotHeaderDTO:
    return as_struct(SnapshotHeaderDTO, row, labels=list(row["labels"]), created_date=row["created_at"])


def summary(row: dict[str, Any]) -> SnapshotSummaryDTO:
    return SnapshotSummaryDTO(
        **msgspec.structs.asdict(stored_header(row)),
        missing_count=row["missing_disconnected"] + row["missing_no_value"],
        missing=MissingDTO(
            disconnected=row["missing_disconnected"], no_value=row["missing_no_value"], stale=row["stale_count"]
        ),
    )


async def _select(ctx: ServiceContext, spec: SnapshotSpec) -> list[snap_db.PVRow]:
    """The selected PVs in name order; an id in pvIds or tags that names nothing is a 400."""
    async with connection(ctx.pool) as conn:
        if spec.tag_ids:
            known = await snap_db.known_tag_ids(conn, spec.tag_ids)
            unknown = [str(i) for i in spec.tag_ids if i not in known]
            if unknown:
                raise ValidationError(f"tags: unknown tag ids: {', '.join(unknown[:20])}", unknown=unknown[:100])
        pvs = await snap_db.select_pvs(conn, spec.pv_ids, spec.tag_ids)
    if spec.pv_ids:
        found = {row[0] for row in pvs}
        unknown = [str(i) for i in spec.pv_ids if i.bytes not in found]
        if unknown:
            raise ValidationError(f"pvIds: unknown PV ids: {', '.join(unknown[:20])}", unknown=unknown[:100])
    return pvs


async def enqueue(ctx: ServiceContext, spec: SnapshotSpec, actor: Principal, *, key: str | None = None) -> JobQueued:
    """Validate the selection now (400 at once), then queue the job."""
    if spec.pv_ids or spec.tag_ids:
        await _select(ctx, SnapshotSpec(title=spec.title, pv_ids=spec.pv_ids or [], tag_ids=spec.tag_ids or []))
    if ctx.queue is None:
        raise UnavailableError("the job queue is not running in this process")
    job_id = await ctx.queue.enqueue(JOB_TYPE, job_data(spec), actor, key=key)
    return JobQueued(job_id=job_id, message=f"Snapshot '{spec.title}' queued")


async def snapshot_job(ctx: ServiceContext, job: JobContext) -> JobOutcome:
    """The snapshot_create task."""
    spec = parse(job.job_data, SnapshotSpec)
    row = await take_snapshot(ctx, spec, job.actor, job)
    return _outcome(summary(row), ctx.settings.stale_max_age)


def _outcome(s: SnapshotSummaryDTO, stale_max_age: float) -> JobOutcome:
    counts = MissingTally(disconnected=s.missing.disconnected, no_value=s.missing.no_value, stale=s.missing.stale)
    gaps = missing_text(counts)
    return JobOutcome(
        result_id=s.id,
        result={
            "snapshotId": str(s.id),
            "pvCount": s.pv_count,
            "source": s.source,
            "missingCount": s.missing_count,
            "missing": msgspec.to_builtins(s.missing),
        },
        message=f"Snapshot '{s.title}': saved {s.pv_count:,} PVs" + (f"; {gaps}" if gaps else ""),
        warnings=missing_warnings(counts, s.pv_count, stale_max_age),
    )


async def _read(
    ctx: ServiceContext, pvs: list[snap_db.PVRow], use_cache: bool, job: JobContext | None
) -> Callable[[str], PVState | None]:
    """A lookup of each address's state: the live cache once the monitor is warm for these PVs, or the
    result of one direct read (one deadline, SQUIRREL_CA_TIMEOUT, for all of it)."""
    addresses = list({a for row in pvs for a in (row[1], row[2]) if a})
    if use_cache:

        async def waiting(cold: int) -> None:
            if job is not None:
                most = ctx.settings.snapshot_warmup
                await job.progress(10, f"Waiting for the monitor's first values of {cold:,} channels (≤{most:g} s)")

        await wait_warm(ctx, addresses, waiting)
        return ctx.cache.get
    states: dict[str, PVState] = await ca.read_many(addresses, ctx.settings.ca_timeout, breakers=ctx.breakers)
    for state in states.values():
        if state.error is not None:
            state.has_value = False
            # Only a channel that was not there is "disconnected"; one that was but gave no (usable)
            # answer by the deadline is stored as connected without a value (API.md: noValue).
            # A PVA get cannot tell the two apart (an unanswered search is also a timeout): it keeps
            # the read's own connected flag, set only on an answer.
            if protocol_of(state.address) == "ca":
                state.connected = state.error not in ("disconnected", "circuit open")
    return states.get


async def take_snapshot(
    ctx: ServiceContext, spec: SnapshotSpec, actor: Principal, job: JobContext | None = None, *, source: str = ""
) -> dict[str, Any]:
    """Read the selected PVs and store them; returns the snapshot row. Used inline, by jobs, by restore.

    With `require_complete`, a PV saved without a value fails it (409, job failed) and nothing is stored."""
    if job is not None:
        async with connection(ctx.pool) as conn:
            done = await snap_db.by_job(conn, job.job_id)
        if done is not None:  # an earlier attempt committed it (with its job completion)
            return done
    t0 = time.perf_counter()
    pvs = await _select(ctx, spec)  # in PV-name order
    if job is not None:
        await job.progress(5, f"Selected {len(pvs):,} PVs")
    t1 = time.perf_counter()
    lookup = await _read(ctx, pvs, spec.use_cache, job)
    now = time.time() if spec.use_cache else None
    tally = tally_states(pvs, lookup, now, ctx.settings.stale_max_age)
    if job is not None:
        await job.progress(60, f"Read {len(pvs) - tally.missing:,} / {len(pvs):,} PVs")
        await job.check_cancelled()
    if spec.require_complete and tally.missing:
        raise ConflictError(
            f"snapshot '{spec.title}' not stored (requireComplete=true): {tally.missing:,} of {len(pvs):,} PVs "
            f"without a value: {missing_reasons(tally)}",
            missingCount=tally.missing,
            missing={"disconnected": tally.disconnected, "noValue": tally.no_value, "stale": tally.stale},
        )
    absent = missing_state("not monitored" if spec.use_cache else "not read")
    # Each side is encoded straight into the COPY buffer (no per-PV objects kept).
    write_sides = sides_writer(lookup, now, absent)
    source = source or ("cache" if spec.use_cache else "direct")

    def copy(conn: Conn, sid: UUID) -> Awaitable[int]:
        return snap_db.copy_selected(conn, sid, pvs, write_sides)

    t2 = time.perf_counter()
    row = await _store(ctx, spec, len(pvs), tally, actor, source, job, copy)
    t3 = time.perf_counter()
    log.info(
        "snapshot stored",
        pvs=len(pvs),
        source=source,
        missing=tally.missing,
        select_s=round(t1 - t0, 3),
        read_s=round(t2 - t1, 3),
        store_s=round(t3 - t2, 3),
    )
    return row


async def _store(
    ctx: ServiceContext,
    spec: SnapshotSpec,
    count: int,
    tally: MissingTally,
    actor: Principal,
    source: str,
    job: JobContext | None,
    copy: Callable[[Conn, UUID], Awaitable[int]],
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
                "missing_disconnected": tally.disconnected,
                "missing_no_value": tally.no_value,
                "stale_count": tally.stale,
            },
        )
        await copy(conn, snapshot_id)
        await snap_db.set_tags(conn, snapshot_id)
        gaps = missing_text(tally)
        await audit.record(
            conn,
            actor,
            "snapshot.create",
            "snapshot",
            snapshot_id,
            f"'{spec.title}': {count:,} PVs ({source})" + (f"; {gaps}" if gaps else ""),
        )
        if job is not None:
            await job.complete_in(conn, _outcome(summary(row), ctx.settings.stale_max_age))
    return row


async def create_inline(ctx: ServiceContext, spec: SnapshotSpec, actor: Principal) -> SnapshotSummaryDTO:
    return summary(await take_snapshot(ctx, spec, actor))


async def get_summary(ctx: ServiceContext, snapshot_id: UUID) -> SnapshotSummaryDTO:
    async with connection(ctx.pool) as conn:
        row = await snap_db.get(conn, snapshot_id)
    return summary(found(row, f"snapshot {snapshot_id}"))


async def list_snapshots(
    ctx: ServiceContext, title: str | None, tags: list[UUID], labels: list[str], limit: int, offset: int
) -> list[SnapshotSummaryDTO]:
    async with connection(ctx.pool) as conn:
        rows = await snap_db.list_page(conn, title or None, tags or None, labels or None, Page(limit, offset))
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
