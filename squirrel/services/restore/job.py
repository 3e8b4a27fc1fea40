"""Restore a snapshot: request checks, the dry-run plan, and the staged, resumable restore job.

The job first commits a backup holding a value for every PV it writes (restore_source), then writes
stage by stage (restore order ascending, restore_run.StageRunner), recording completed writes durably
while a stage runs, so a retried attempt reuses the backup and never repeats a completed write. It ends
`completed` only when no PV failed; otherwise `failed` with the counts and the full per-PV result.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec
import structlog

from squirrel.db import jobs as jobs_db
from squirrel.db import restore as restore_db
from squirrel.db.pool import connection
from squirrel.errors import ConflictError, NotFoundError, UnavailableError, ValidationError
from squirrel.jobs.payloads import RESTORE_JOB, RestorePayload, job_data, parse
from squirrel.jobs.progress import JobCancelled, JobContext, JobOutcome
from squirrel.model import (
    JobQueued,
    Principal,
    RestorePlan,
    RestorePlanItem,
    RestoreRequest,
    RestoreResult,
    RestoreResultItem,
)
from squirrel.pv import PVState, to_wire
from squirrel.services import _pv_io as ca  # CA and pva:// addresses, dispatched by protocol
from squirrel.services import audit
from squirrel.services.compare import values_equal
from squirrel.services.context import ServiceContext
from squirrel.services.restore import _plan as rp
from squirrel.services.restore import _source as source
from squirrel.services.restore._run import Done, StageRunner
from squirrel.services.restore._source import decode_setpoint, holds_value

log = structlog.get_logger(__name__)
JOB_TYPE = RESTORE_JOB
# One attempt bounds the backup plus every stage; retries resume from the recorded outcomes.
RESTORE_JOB_TIMEOUT = 3600.0
RESTORE_JOB_ATTEMPTS = 3
_START_LOCK = 0x5351_5253  # "SQRS": serialises the check-then-enqueue of restores


# --- request checks and targets ---------------------------------------------------------------------
async def load_targets(ctx: ServiceContext, snapshot_id: UUID, pv_ids: Sequence[UUID] | None) -> list[rp.RestoreTarget]:
    """The snapshot's rows to restore (all, or those in pv_ids) joined with the live registry."""
    _check_pv_ids(pv_ids)
    async with connection(ctx.pool) as conn:
        rows = await restore_db.targets(conn, snapshot_id)
        if not rows and not await restore_db.snapshot_exists(conn, snapshot_id):
            raise NotFoundError(f"snapshot {snapshot_id} not found")
    targets = [_target(row) for row in rows]
    if pv_ids is None:
        return targets
    wanted = set(pv_ids)
    present = {t.pv_id for t in targets}
    if wanted - present:
        raise _foreign_ids_error(snapshot_id, wanted - present)
    return [t for t in targets if t.pv_id in wanted]


def _check_pv_ids(pv_ids: Sequence[UUID] | None) -> None:
    if pv_ids is None:
        return
    if not pv_ids:
        raise ValidationError("pvIds must not be empty; omit it to restore every PV of the snapshot")
    dups = sorted(str(i) for i, n in Counter(pv_ids).items() if n > 1)
    if dups:
        raise ValidationError(f"pvIds lists these ids more than once: {', '.join(dups)}", pvIds=dups)


def _foreign_ids_error(snapshot_id: UUID, foreign: Iterable[UUID]) -> ValidationError:
    names = sorted(str(i) for i in foreign)
    return ValidationError(f"pvIds not in snapshot {snapshot_id}: {', '.join(names)}", pvIds=names)


async def check_request(ctx: ServiceContext, snapshot_id: UUID, pv_ids: Sequence[UUID] | None) -> int:
    """Validate a restore request without loading the snapshot's values; returns how many PVs it covers."""
    _check_pv_ids(pv_ids)
    async with connection(ctx.pool) as conn:
        found = await restore_db.request_check(conn, snapshot_id, pv_ids)
    if found is None:
        raise NotFoundError(f"snapshot {snapshot_id} not found")
    pv_count, foreign = found
    if foreign:
        raise _foreign_ids_error(snapshot_id, foreign)
    return pv_count if pv_ids is None else len(pv_ids)


def _target(row: restore_db.TargetRow) -> rp.RestoreTarget:
    pv_id, name, setpoint, readback, raw, in_registry, read_only, order, completion, abs_tol, rel_tol = row
    stored = decode_setpoint(raw)
    if stored is None:
        return rp.RestoreTarget(
            pv_id, name or str(pv_id), setpoint, readback, None, None, None, False,
            in_registry, read_only, order, completion, abs_tol, rel_tol,
        )  # fmt: skip
    return rp.RestoreTarget(
        pv_id, name or str(pv_id), setpoint, readback, stored.value, stored.type, stored.enum_index,
        stored.has_value, in_registry, read_only, order, completion, abs_tol, rel_tol,
    )  # fmt: skip


async def live_states(
    ctx: ServiceContext, addresses: Iterable[str], *, need_value: bool = False
) -> dict[str, PVState | None]:
    """States from the live cache; addresses it cannot vouch for are read directly in one batch.

    The cache cannot vouch for an address nobody monitors, nor for one the monitor has not connected
    yet (just registered): only a PV seen connected and then lost counts as known disconnected. With
    `need_value` (a backup's read) only a connected value counts; everything else is read directly.
    """
    states: dict[str, PVState | None] = {}
    missing = []
    allowed: Iterable[str] = dict.fromkeys(addresses)
    if ctx.breakers is not None:
        allowed, refused = ctx.breakers.split_allowed(allowed)
        for address in refused:
            # The IOC's circuit is open: whatever the cache still shows is stale, and a write would fail.
            states[address] = PVState(address=address, error="circuit open", updated_at=time.time())
    for address in allowed:
        state = ctx.cache.get(address)
        if need_value and not holds_value(state):
            missing.append(address)
        elif state is None or (not state.connected and state.connected_at is None):
            missing.append(address)
        else:
            states[address] = state
    if missing:
        read = await ca.read_many(missing, ctx.settings.ca_timeout, breakers=ctx.breakers)
        for address in missing:
            states[address] = read.get(address)
    return states


def _options(req: RestoreRequest | RestorePayload) -> rp.RestoreOptions:
    return rp.RestoreOptions(
        skip_equal=req.skip_equal,
        verify=req.verify,
        backup=req.backup,
        force=req.force,
        allow_incomplete_backup=req.allow_incomplete_backup,
    )


def _planned_addresses(targets: Iterable[rp.RestoreTarget]) -> list[str]:
    return [t.setpoint_address for t in targets if t.setpoint_address and t.in_registry and not t.read_only]


# --- dry run ----------------------------------------------------------------------------------------
async def dry_run(ctx: ServiceContext, snapshot_id: UUID, req: RestoreRequest) -> RestorePlan:
    """What a restore with these options would do now, per PV, without writing anything."""
    targets = await load_targets(ctx, snapshot_id, req.pv_ids)
    states = await live_states(ctx, _planned_addresses(targets))
    planned = rp.plan(targets, states, _options(req), values_equal)
    items = [
        RestorePlanItem(
            pv_id=p.target.pv_id,
            pv_name=p.target.pv_name,
            action=p.action,
            current_value=to_wire(p.current.value) if p.current is not None and p.current.has_value else None,
            target_value=to_wire(p.target.value),
            reason=rp.reason(p),
        )
        for p in planned
    ]
    return RestorePlan(snapshot_id=snapshot_id, counts=rp.count(p.action for p in planned), items=items)


# --- start --------------------------------------------------------------------------------------------
async def start(ctx: ServiceContext, actor: Principal, snapshot_id: UUID, req: RestoreRequest) -> JobQueued:
    """Check the request, refuse while another restore is queued or running (409 + its jobId), enqueue."""
    # The job loads the values; here only what makes the request valid is checked (cheap at 50K).
    total = await check_request(ctx, snapshot_id, req.pv_ids)
    payload = RestorePayload(snapshot_id=snapshot_id, **msgspec.structs.asdict(req))  # the request, for a snapshot
    if ctx.queue is None:
        raise UnavailableError("the job queue is not running in this process")
    queue = ctx.queue
    async with connection(ctx.pool) as conn:
        # The partial unique index on job is the guarantee; this lock makes the 409 carry the id.
        await restore_db.lock_start(conn, _START_LOCK)
        running = await restore_db.active_restore_job(conn)
        if running is not None:
            raise _busy(running)
        try:
            job_id = await queue.enqueue(JOB_TYPE, job_data(payload), actor)
        except ConflictError:
            running = await restore_db.active_restore_job(conn)
            raise _busy(running) from None
        await audit.record(
            conn,
            actor,
            "snapshot.restore.start",
            "snapshot",
            snapshot_id,
            f"restore of {total} PVs queued as job {job_id} (skipEqual={req.skip_equal}, "
            f"verify={req.verify}, backup={req.backup}, force={req.force}, "
            f"allowIncompleteBackup={req.allow_incomplete_backup})",
        )
    return JobQueued(job_id=job_id, message=f"Restore of {total:,} PVs queued")


def _busy(running: UUID | None) -> ConflictError:
    if running is None:
        return ConflictError("a restore is already queued or running")
    return ConflictError(f"a restore is already queued or running (job {running})", jobId=str(running))


# --- the job ----------------------------------------------------------------------------------------
class _Prepared(msgspec.Struct):
    """The plan of an attempt and what it recorded with it; `refused` when the backup cannot be complete."""

    planned: list[rp.PlannedPV]
    backup_id: UUID | None
    refused: str | None = None
    refused_items: dict[UUID, rp.ItemOutcome] = msgspec.field(default_factory=dict)


async def restore_job(ctx: ServiceContext, job: JobContext) -> JobOutcome:
    """The snapshot_restore task (registered by services/jobs.register_job_types)."""
    payload = parse(job.job_data, RestorePayload)
    snapshot_id, pv_ids = payload.snapshot_id, payload.pv_ids
    options = _options(payload)
    targets = await load_targets(ctx, snapshot_id, pv_ids)
    async with connection(ctx.pool) as conn:
        backup_id = await restore_db.ensure_run(conn, job.job_id, snapshot_id)
        done = {pv_id: rp.ItemOutcome(*row) for pv_id, row in (await restore_db.done_items(conn, job.job_id)).items()}
    if done or backup_id is not None:
        # An earlier attempt committed its backup (with the plan's skips) and maybe some writes: reuse both.
        log.info("restore resumed", job_id=str(job.job_id), attempt=job.attempt, already_done=len(done))
    runner = StageRunner(ctx, job, options, done)
    remaining = [t for t in targets if t.pv_id not in done]
    backup_ids = [t.pv_id for t in targets if t.in_registry]
    t0 = time.perf_counter()
    if options.backup and backup_id is None and not done and backup_ids:
        prepared = await _plan_with_backup(ctx, job, snapshot_id, remaining, backup_ids, options)
        if prepared.refused is not None:
            result = _result(targets, prepared.refused_items, None)
            return await _finish(ctx, job, snapshot_id, result, False, prepared.refused)
        runner.done.update(_skips(prepared.planned, options))  # recorded with the backup
    else:
        states = await live_states(ctx, _planned_addresses(remaining))
        prepared = _Prepared(rp.plan(remaining, states, options, values_equal), backup_id)
        await runner.record(_skips(prepared.planned, options))
    planned = prepared.planned
    log.info("restore planned", job_id=str(job.job_id), pvs=len(planned), seconds=round(time.perf_counter() - t0, 3))
    await runner.run_stages(rp.stages(planned, options), _unverified(targets, done, options))
    return await _finish(ctx, job, snapshot_id, _result(targets, runner.done, prepared.backup_id), runner.cancelled)


def _skips(planned: Iterable[rp.PlannedPV], options: rp.RestoreOptions) -> Done:
    """The outcomes of the PVs the plan does not write (recorded before any write)."""
    out: Done = {}
    for p in planned:
        if p.action in rp.SKIP_ACTIONS or (p.action == "equal" and options.skip_equal):
            out[p.target.pv_id] = rp.ItemOutcome(p.action, rp.reason(p))
        elif p.action == "no_value":
            out[p.target.pv_id] = rp.ItemOutcome("failed", "no stored value to write")
    return out


def _unverified(targets: Sequence[rp.RestoreTarget], done: Done, options: rp.RestoreOptions) -> list[rp.PlannedPV]:
    """PVs an earlier attempt wrote but did not get to verify (it died in the stage's verification)."""
    if not options.verify:
        return []
    return [
        rp.PlannedPV(target=t, action="write", current=None)
        for t in targets
        if t.pv_id in done and done[t.pv_id].outcome == "written"
    ]


async def _plan_with_backup(
    ctx: ServiceContext,
    job: JobContext,
    snapshot_id: UUID,
    remaining: list[rp.RestoreTarget],
    backup_ids: list[UUID],
    options: rp.RestoreOptions,
) -> _Prepared:
    """Read what the backup and the plan need in one go (a connected cached value or a direct read), plan,
    and store the backup unless it would lack a value for a PV the restore writes."""
    await job.progress(0, f"Reading {len(backup_ids):,} PVs for the backup snapshot")
    rows = await source.backup_pvs(ctx, backup_ids)
    addresses = list(dict.fromkeys([*_planned_addresses(remaining), *source.row_addresses(rows)]))
    direct = any(not holds_value(ctx.cache.get(a)) for a in addresses)
    states = await live_states(ctx, addresses, need_value=True)
    planned = rp.plan(remaining, states, options, values_equal)
    missing = source.lacking(planned, options, rows, states)
    if missing:
        writes = sum(p.writes(options) for p in planned)
        error = source.incomplete_error(missing, writes)
        if not options.allow_incomplete_backup:
            refused = {p.target.pv_id: rp.ItemOutcome("failed", f"no backup value: {why}") for p, why in missing}
            stopped = rp.ItemOutcome("cancelled", "not written: the restore stopped before writing (backup incomplete)")
            items = {t.pv_id: refused.get(t.pv_id, stopped) for t in remaining}
            return _Prepared(planned, None, error, items)
        log.warning("restore proceeds without a complete backup", job_id=str(job.job_id), error=error)
    await job.progress(0, f"Taking backup snapshot of {len(rows):,} PVs")
    skips = [(pv_id, o.outcome, o.error, o.changed) for pv_id, o in _skips(planned, options).items()]
    backup_id = await source.store_backup(ctx, job, snapshot_id, rows, states, skips, direct)
    return _Prepared(planned, backup_id)


async def _finish(
    ctx: ServiceContext,
    job: JobContext,
    snapshot_id: UUID,
    result: RestoreResult,
    cancelled: bool,
    refused: str | None = None,
) -> JobOutcome:
    """Say what happened, in one transaction with its audit row (a crash leaves both or neither, so a
    retried attempt adds no second one): `completed` only when no PV failed, else `failed` (final, with
    the counts in `error` and the full result kept), or `cancelled` (the job row already says so)."""
    summary = rp.restored_summary(result.counts, result.changed_count)
    error = refused or (rp.not_restored(result.counts, result.total_pvs) if result.failure_count else None)
    result_data: dict[str, Any] = msgspec.to_builtins(result)
    counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
    async with connection(ctx.pool) as conn:
        if not cancelled:
            message = f"Restore failed: {error}; {summary}" if error else f"Restore finished: {summary}"
            if error is not None:
                # Not an exception: a crash is retried, while this is the restore's final, honest outcome.
                ended = await restore_db.fail_job(conn, job.job_id, snapshot_id, result_data, message, error)
            else:
                ended = await jobs_db.complete(conn, job.job_id, message, snapshot_id, result_data)
            cancelled = not ended
        if cancelled:
            message = f"Restore cancelled: {summary}" + (f"; {error}" if error else "")
            # The job row is already 'cancelled'; keep the per-PV outcomes (the rest 'cancelled') on it.
            await restore_db.set_cancelled_result(conn, job.job_id, snapshot_id, result_data, message)
        verb = "cancelled" if cancelled else "failed" if error else "finished"
        await audit.record(
            conn, job.actor, "snapshot.restore.finish", "snapshot", snapshot_id, f"job {job.job_id} {verb}: {counts}"
        )
    if cancelled:
        raise JobCancelled(f"job {job.job_id} was cancelled")
    job.completed = True  # the job row is finished: the queue must not complete it again
    if error is not None:
        log.warning("restore failed", job_id=str(job.job_id), error=error)
    return JobOutcome(result_id=snapshot_id, result=result_data, message=message)


def _result(targets: Sequence[rp.RestoreTarget], done: Done, backup_id: UUID | None) -> RestoreResult:
    items = []
    changed = 0
    for t in targets:
        item = done.get(t.pv_id) or rp.ItemOutcome("cancelled", "the restore was cancelled before this PV")
        items.append(RestoreResultItem(pv_id=t.pv_id, pv_name=t.pv_name, outcome=item.outcome, error=item.error))
        changed += item.changed and item.outcome in ("written", "verified")
    counts, success, failure = rp.summarize(i.outcome for i in items)
    return RestoreResult(
        total_pvs=len(items),
        success_count=success,
        failure_count=failure,
        changed_count=changed,
        backup_snapshot_id=backup_id,
        counts=counts,
        items=items,
    )
