"""Restore a snapshot: request checks, the dry-run plan, and the staged, resumable restore job.

The job writes stage by stage (restore order ascending), one batched write per stage, and records
each stage's outcomes durably before the next, so a retried attempt never repeats completed writes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec
import structlog

from squirrel.db import restore as restore_db
from squirrel.db.pool import connection
from squirrel.epics.cache import PVState
from squirrel.epics.values import to_wire
from squirrel.errors import ConflictError, NotFoundError, ValidationError
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
from squirrel.services import audit
from squirrel.services import pv_io as ca  # CA and pva:// addresses, dispatched by protocol
from squirrel.services import restore_plan as rp
from squirrel.services.compare import values_equal
from squirrel.services.context import ServiceContext
from squirrel.services.restore_source import backup_snapshot, decode_setpoint

log = structlog.get_logger(__name__)
JOB_TYPE = "snapshot_restore"
# One attempt bounds the backup plus every stage; retries resume from the recorded outcomes.
RESTORE_JOB_TIMEOUT = 3600.0
RESTORE_JOB_ATTEMPTS = 3
_START_LOCK = 0x5351_5253  # "SQRS": serialises the check-then-enqueue of restores
# Readbacks may trail the write (no completion, a scan period): re-read mismatches a few times.
_VERIFY_DELAYS = (0.0, 0.2, 0.5, 1.0)
Done = dict[UUID, tuple[str, str | None]]


# --- request checks and targets ---------------------------------------------------------------------
async def load_targets(ctx: ServiceContext, snapshot_id: UUID, pv_ids: Sequence[UUID] | None) -> list[rp.RestoreTarget]:
    """The snapshot's rows to restore (all, or those in pv_ids) joined with the live registry."""
    _check_pv_ids(pv_ids)
    async with connection(ctx.pool) as conn:
        rows = await restore_db.fetch_dicts(conn, "restore_targets", {"snapshot_id": snapshot_id})
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


def _target(row: dict[str, Any]) -> rp.RestoreTarget:
    stored = decode_setpoint(row["setpoint"])
    return rp.RestoreTarget(
        pv_id=row["pv_id"],
        pv_name=row["pv_name"] or str(row["pv_id"]),
        setpoint_address=row["setpoint_name"],
        readback_address=row["readback_name"],
        value=stored.value if stored else None,
        value_type=stored.type if stored else None,
        enum_index=stored.enum_index if stored else None,
        has_value=stored is not None and stored.has_value,
        in_registry=row["in_registry"],
        read_only=row["read_only"],
        restore_order=row["restore_order"],
        put_completion=row["put_completion"],
        abs_tolerance=row["abs_tolerance"],
        rel_tolerance=row["rel_tolerance"],
    )


async def live_states(ctx: ServiceContext, addresses: Iterable[str]) -> dict[str, PVState | None]:
    """States from the live cache; addresses it cannot vouch for are read directly in one batch.

    The cache cannot vouch for an address nobody monitors, nor for one the monitor has not connected
    yet (just registered): only a PV seen connected and then lost counts as known disconnected.
    """
    states: dict[str, PVState | None] = {}
    missing = []
    for address in dict.fromkeys(addresses):
        state = ctx.cache.get(address)
        if state is None or (not state.connected and state.connected_at is None):
            missing.append(address)
        else:
            states[address] = state
    if missing:
        read = await ca.read_many(missing, ctx.settings.ca_timeout, breakers=ctx.breakers)
        for address in missing:
            states[address] = read.get(address)
    return states


def _options(req: RestoreRequest) -> rp.RestoreOptions:
    return rp.RestoreOptions(skip_equal=req.skip_equal, verify=req.verify, backup=req.backup, force=req.force)


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
        )
        for p in planned
    ]
    return RestorePlan(snapshot_id=snapshot_id, counts=rp.count(p.action for p in planned), items=items)


# --- start --------------------------------------------------------------------------------------------
async def start(ctx: ServiceContext, actor: Principal, snapshot_id: UUID, req: RestoreRequest) -> JobQueued:
    """Check the request, refuse while another restore is queued or running (409 + its jobId), enqueue."""
    # The job loads the values; here only what makes the request valid is checked (cheap at 50K).
    total = await check_request(ctx, snapshot_id, req.pv_ids)
    data: dict[str, Any] = {
        "snapshotId": str(snapshot_id),
        "pvIds": None if req.pv_ids is None else [str(i) for i in req.pv_ids],
        "skipEqual": req.skip_equal,
        "verify": req.verify,
        "backup": req.backup,
        "force": req.force,
    }
    async with connection(ctx.pool) as conn:
        # The partial unique index on job is the guarantee; this lock makes the 409 carry the id.
        await restore_db.lock_start(conn, _START_LOCK)
        running = await restore_db.active_restore_job(conn)
        if running is not None:
            raise _busy(running)
        try:
            job_id = await ctx.queue.enqueue(JOB_TYPE, data, actor)
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
            f"verify={req.verify}, backup={req.backup}, force={req.force})",
        )
    return JobQueued(job_id=job_id, message=f"Restore of {total:,} PVs queued")


def _busy(running: UUID | None) -> ConflictError:
    if running is None:
        return ConflictError("a restore is already queued or running")
    return ConflictError(f"a restore is already queued or running (job {running})", jobId=str(running))


# --- the job ----------------------------------------------------------------------------------------
async def restore_job(ctx: ServiceContext, job: JobContext) -> JobOutcome:
    """The snapshot_restore task (registered by services/jobs.register_job_types)."""
    data = job.job_data
    snapshot_id = UUID(data["snapshotId"])
    pv_ids = None if data.get("pvIds") is None else [UUID(i) for i in data["pvIds"]]
    options = rp.RestoreOptions(
        skip_equal=bool(data.get("skipEqual")),
        verify=bool(data.get("verify")),
        backup=bool(data.get("backup", True)),
        force=bool(data.get("force")),
    )
    targets = await load_targets(ctx, snapshot_id, pv_ids)
    async with connection(ctx.pool) as conn:
        backup_id = await restore_db.ensure_run(conn, job.job_id, snapshot_id)
        done = await restore_db.done_items(conn, job.job_id)
    if done:
        log.info("restore resumed", job_id=str(job.job_id), attempt=job.attempt, already_done=len(done))
    backup_ids = [t.pv_id for t in targets if t.in_registry]
    if options.backup and backup_id is None and not done and backup_ids:
        await job.progress(0, f"Taking backup snapshot of {len(backup_ids):,} PVs")
        backup_id = await backup_snapshot(ctx, job, snapshot_id, backup_ids)
        async with connection(ctx.pool) as conn:
            await restore_db.set_backup(conn, job.job_id, backup_id)

    runner = _Runner(ctx, job, options, done)
    remaining = [t for t in targets if t.pv_id not in done]
    t0 = time.perf_counter()
    states = await live_states(ctx, _planned_addresses(remaining))
    planned = rp.plan(remaining, states, options, values_equal)
    log.info("restore planned", job_id=str(job.job_id), pvs=len(planned), seconds=round(time.perf_counter() - t0, 3))
    await runner.record({p.target.pv_id: (p.action, None) for p in planned if p.action in rp.SKIP_ACTIONS})
    await runner.record(
        {p.target.pv_id: ("failed", "no stored value to write") for p in planned if p.action == "no_value"}
    )
    await runner.run_stages(rp.stages(planned))

    result = _result(targets, runner.done, backup_id)
    skipped = result.total_pvs - result.success_count - result.failure_count
    message = (
        f"Restore {'cancelled' if runner.cancelled else 'finished'}: {result.success_count:,} succeeded, "
        f"{result.failure_count:,} failed, {skipped:,} skipped of {result.total_pvs:,} PVs"
    )
    outcome = JobOutcome(result_id=snapshot_id, result=msgspec.to_builtins(result), message=message)
    async with connection(ctx.pool) as conn:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
        verb = "cancelled" if runner.cancelled else "finished"
        await audit.record(
            conn, job.actor, "snapshot.restore.finish", "snapshot", snapshot_id, f"job {job.job_id} {verb}: {counts}"
        )
        if runner.cancelled:
            # The job row is already 'cancelled'; keep the per-PV outcomes (the rest 'cancelled') on it.
            await restore_db.set_cancelled_result(conn, job.job_id, snapshot_id, outcome.result, message)
    if runner.cancelled:
        raise JobCancelled(f"job {job.job_id} was cancelled")
    return outcome


def _result(targets: Sequence[rp.RestoreTarget], done: Done, backup_id: UUID | None) -> RestoreResult:
    items = []
    for t in targets:
        outcome, error = done.get(t.pv_id, ("cancelled", "the restore was cancelled before this PV"))
        items.append(RestoreResultItem(pv_id=t.pv_id, pv_name=t.pv_name, outcome=outcome, error=error))
    counts, success, failure = rp.summarize(i.outcome for i in items)
    return RestoreResult(
        total_pvs=len(items),
        success_count=success,
        failure_count=failure,
        backup_snapshot_id=backup_id,
        counts=counts,
        items=items,
    )


class _Runner:
    """Writes stages in order and records each stage's outcomes before the next one starts."""

    def __init__(self, ctx: ServiceContext, job: JobContext, options: rp.RestoreOptions, done: Done) -> None:
        self.ctx = ctx
        self.job = job
        self.options = options
        self.done: Done = dict(done)
        self.cancelled = False

    async def record(self, outcomes: Done) -> None:
        if not outcomes:
            return
        async with connection(self.ctx.pool) as conn:
            await restore_db.record_items(conn, self.job.job_id, [(k, o, e) for k, (o, e) in outcomes.items()])
        self.done.update(outcomes)

    async def run_stages(self, stages: list[tuple[int, list[rp.PlannedPV]]]) -> None:
        total = sum(len(items) for _, items in stages)
        written = 0
        for number, (order, items) in enumerate(stages, start=1):
            if await self._cancelled():
                return
            where = f"stage {number}/{len(stages)}"
            await self.job.progress(_percent(written, total), f"Writing {len(items):,} PVs ({where}, order {order})")
            t0 = time.perf_counter()
            outcomes = await self._write(items)
            t1 = time.perf_counter()
            if self.options.verify:
                await self.job.progress(_percent(written, total), f"Verifying {len(items):,} PVs ({where})")
                outcomes.update(await self._verify([p for p in items if outcomes[p.target.pv_id][0] == "written"]))
            t2 = time.perf_counter()
            await self.record(outcomes)
            log.info(
                "restore stage done",
                job_id=str(self.job.job_id),
                stage=number,
                pvs=len(items),
                write_s=round(t1 - t0, 3),
                verify_s=round(t2 - t1, 3),
                record_s=round(time.perf_counter() - t2, 3),
            )
            written += len(items)
            await self.job.progress(_percent(written, total), f"Wrote {written:,} / {total:,} PVs ({where})")

    async def _cancelled(self) -> bool:
        try:
            await self.job.check_cancelled()
        except JobCancelled:
            self.cancelled = True
        return self.cancelled

    async def _write(self, items: list[rp.PlannedPV]) -> Done:
        """One batch per completion mode, both in flight together, each bounded by the put timeout."""
        timeout = self.ctx.settings.ca_put_timeout
        waited = [p for p in items if p.target.put_completion]
        nowait = [p for p in items if not p.target.put_completion]
        batches = await asyncio.gather(
            self._batch(waited, timeout, True),
            self._batch(nowait, timeout, False),
        )
        out: Done = {}
        for part in batches:
            out.update(part)
        return out

    async def _batch(self, items: list[rp.PlannedPV], timeout: float, wait: bool) -> Done:
        if not items:
            return {}
        writes = [(p.target.setpoint_address or "", rp.write_value(p.target)) for p in items]
        results = await ca.write_many(writes, timeout, wait=wait, breakers=self.ctx.breakers)
        out: Done = {}
        for p, (address, _) in zip(items, writes, strict=True):
            res = results.get(address)
            if res is None:
                out[p.target.pv_id] = ("failed", "no write result")
            else:
                out[p.target.pv_id] = (res.outcome, res.error)
        return out

    async def _verify(self, items: list[rp.PlannedPV]) -> Done:
        out: Done = {}
        pending = items
        last: dict[str, PVState] = {}
        for delay in _VERIFY_DELAYS:
            if not pending:
                break
            if delay:
                await asyncio.sleep(delay)
            addresses = list(dict.fromkeys(rp.verify_address(p.target) or "" for p in pending))
            last = await ca.read_many(addresses, self.ctx.settings.ca_timeout, breakers=self.ctx.breakers)
            still = []
            for p in pending:
                if rp.verified(p.target, last.get(rp.verify_address(p.target) or ""), values_equal):
                    out[p.target.pv_id] = ("verified", None)
                else:
                    still.append(p)
            pending = still
        for p in pending:
            address = rp.verify_address(p.target) or ""
            state = last.get(address)
            if state is None or not state.connected:
                error = f"{address} did not answer the verification read"
            else:
                error = f"{address} reads {to_wire(state.value)!r}, expected {to_wire(p.target.value)!r}"
            out[p.target.pv_id] = ("mismatch", error)
        return out


def _percent(done: int, total: int) -> int:
    return 100 if total == 0 else min(99, done * 100 // total)
