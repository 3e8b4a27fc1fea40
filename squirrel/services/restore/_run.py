"""Writing a restore's stages: each stage's writes all in flight together, in chunks whose outcomes are
recorded durably as each chunk completes (a crash repeats only the writes in flight), and every stage's
outcomes recorded before the next stage starts.

Each PV's outcome says whether the write changed it (its live value differed from the target), so the
job can report "3 changed, 2,497 already at target" even across a retried attempt.
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import structlog

from squirrel.db import restore as restore_db
from squirrel.db.pool import connection
from squirrel.jobs.progress import JobCancelled, JobContext
from squirrel.pv import PVState, to_wire
from squirrel.services import _pv_io as ca  # CA and pva:// addresses, dispatched by protocol
from squirrel.services.compare import values_equal
from squirrel.services.context import ServiceContext
from squirrel.services.restore import _plan as rp

log = structlog.get_logger(__name__)
# Readbacks may trail the write (no completion, a scan period): re-read mismatches a few times.
_VERIFY_DELAYS = (0.0, 0.2, 0.5, 1.0)
# Writes per libca batch: a chunk's outcomes are recorded as soon as all of its writes completed.
WRITE_CHUNK = 1000
Done = dict[UUID, rp.ItemOutcome]
Row = tuple[UUID, str, str | None, bool]


def _rows(outcomes: Done) -> list[Row]:
    return [(pv_id, o.outcome, o.error, o.changed) for pv_id, o in outcomes.items()]


class Recorder:
    """Appends outcomes durably as chunks complete: one COPY at a time, each taking all that is pending."""

    def __init__(self, ctx: ServiceContext, job_id: UUID, done: Done) -> None:
        self.ctx = ctx
        self.job_id = job_id
        self.done = done
        self._pending: Done = {}
        self._lock = asyncio.Lock()

    async def add(self, outcomes: Done) -> None:
        self._pending.update(outcomes)
        async with self._lock:
            if not self._pending:  # a COPY that ran meanwhile took them
                return
            batch, self._pending = self._pending, {}
            async with connection(self.ctx.pool) as conn:
                await restore_db.record_items(conn, self.job_id, _rows(batch))
            self.done.update(batch)


class StageRunner:
    """Writes stages in order; outcomes are recorded as the stage's write chunks complete, all of them
    before the next stage starts."""

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
            await restore_db.record_items(conn, self.job.job_id, _rows(outcomes))
        self.done.update(outcomes)

    async def run_stages(
        self, stages: list[tuple[int, list[rp.PlannedPV]]], unverified: list[rp.PlannedPV] | None = None
    ) -> None:
        """Write the stages in order; `unverified`: PVs an earlier attempt wrote, verified with their stage."""
        stages = _with_unverified(stages, unverified or [])
        total = sum(len(items) for _, items in stages)
        written = 0
        for number, (order, items) in enumerate(stages, start=1):
            if await self._cancelled():
                return
            where = f"stage {number}/{len(stages)}"
            to_write = [p for p in items if p.target.pv_id not in self.done]
            await self.job.progress(_percent(written, total), f"Writing {len(to_write):,} PVs ({where}, order {order})")
            t0 = time.perf_counter()
            await self._write(to_write)  # every outcome lands in self.done, recorded
            t1 = time.perf_counter()
            if self.options.verify:
                await self.job.progress(_percent(written, total), f"Verifying {len(items):,} PVs ({where})")
                await self._verify_stage(items)
            log.info(
                "restore stage done",
                job_id=str(self.job.job_id),
                stage=number,
                pvs=len(to_write),
                write_s=round(t1 - t0, 3),
                verify_s=round(time.perf_counter() - t1, 3),
            )
            written += len(items)
            await self.job.progress(_percent(written, total), f"Wrote {written:,} / {total:,} PVs ({where})")

    async def _verify_stage(self, items: list[rp.PlannedPV]) -> None:
        """Verify the stage's writes (this attempt's and an earlier one's); record what was found."""
        to_verify = [p for p in items if self.done[p.target.pv_id].outcome == "written"]
        verified = await self._verify(to_verify, self.done)
        async with connection(self.ctx.pool) as conn:
            await restore_db.upsert_items(conn, self.job.job_id, _rows(verified))
        self.done.update(verified)

    async def _cancelled(self) -> bool:
        try:
            await self.job.check_cancelled()
        except JobCancelled:
            self.cancelled = True
        return self.cancelled

    async def _write(self, items: list[rp.PlannedPV]) -> None:
        """Chunks per completion mode, all in flight together, each bounded by the put timeout; each
        chunk's outcomes are recorded as soon as it completed."""
        timeout = self.ctx.settings.ca_put_timeout
        recorder = Recorder(self.ctx, self.job.job_id, self.done)
        chunks = []
        for wait in (True, False):
            same = [p for p in items if p.target.put_completion is wait]
            chunks += [(same[i : i + WRITE_CHUNK], wait) for i in range(0, len(same), WRITE_CHUNK)]
        await asyncio.gather(*(self._chunk(recorder, chunk, timeout, wait) for chunk, wait in chunks))

    async def _chunk(self, recorder: Recorder, items: list[rp.PlannedPV], timeout: float, wait: bool) -> None:
        await recorder.add(await self._batch(items, timeout, wait))

    async def _batch(self, items: list[rp.PlannedPV], timeout: float, wait: bool) -> Done:
        writes = [(p.target.setpoint_address or "", rp.write_value(p.target)) for p in items]
        results = await ca.write_many(writes, timeout, wait=wait, breakers=self.ctx.breakers)
        out: Done = {}
        for p, (address, _) in zip(items, writes, strict=True):
            res = results.get(address)
            if res is None:
                out[p.target.pv_id] = rp.ItemOutcome("failed", "no write result")
            else:
                # A PV planned `equal` (written because skipEqual was off) was already at its target.
                out[p.target.pv_id] = rp.ItemOutcome(res.outcome, res.error, p.action != "equal")
        return out

    async def _verify(self, items: list[rp.PlannedPV], written: Done) -> Done:
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
                    out[p.target.pv_id] = rp.ItemOutcome("verified", None, written[p.target.pv_id].changed)
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
            out[p.target.pv_id] = rp.ItemOutcome("mismatch", error, written[p.target.pv_id].changed)
        return out


def _with_unverified(
    stages: list[tuple[int, list[rp.PlannedPV]]], unverified: list[rp.PlannedPV]
) -> list[tuple[int, list[rp.PlannedPV]]]:
    """The stages with the earlier attempt's unverified writes added to theirs (by restore order)."""
    if not unverified:
        return stages
    by_order = {order: list(items) for order, items in stages}
    for p in unverified:
        by_order.setdefault(p.target.restore_order, []).append(p)
    return sorted(by_order.items())


def _percent(done: int, total: int) -> int:
    return 100 if total == 0 else min(99, done * 100 // total)
