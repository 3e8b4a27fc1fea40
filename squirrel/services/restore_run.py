"""Writing a restore's stages: one batched write per stage, outcomes recorded before the next stage.

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
from squirrel.epics import ca
from squirrel.epics.cache import PVState
from squirrel.epics.values import to_wire
from squirrel.jobs.progress import JobCancelled, JobContext
from squirrel.services import restore_plan as rp
from squirrel.services.compare import values_equal
from squirrel.services.context import ServiceContext

log = structlog.get_logger(__name__)
# Readbacks may trail the write (no completion, a scan period): re-read mismatches a few times.
_VERIFY_DELAYS = (0.0, 0.2, 0.5, 1.0)
Done = dict[UUID, rp.ItemOutcome]


class StageRunner:
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
        rows = [(pv_id, o.outcome, o.error, o.changed) for pv_id, o in outcomes.items()]
        async with connection(self.ctx.pool) as conn:
            await restore_db.record_items(conn, self.job.job_id, rows)
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
                to_verify = [p for p in items if outcomes[p.target.pv_id].outcome == "written"]
                outcomes.update(await self._verify(to_verify, outcomes))
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


def _percent(done: int, total: int) -> int:
    return 100 if total == 0 else min(99, done * 100 // total)
