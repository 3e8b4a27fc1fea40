"""The bench's own Channel Access calls (load control, tick counts), made robust for 50K-PV runs.

On a busy 2-core box the IOCs (tens of thousands of records at 10 Hz) answer late: one aioca call on
a list with a single timeout failed the whole phase ("Multiple PVs: User specified timeout on IO
operation expired"). Here each call connects first, then acts, retrying only the PVs that failed with
a longer timeout each attempt; a final failure names them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

ATTEMPTS = 4
BASE_TIMEOUT = 5.0


class DriverError(Exception):
    """A bench CA call failed for some PVs after every retry (the message names them)."""


def _names(pvs: Sequence[str]) -> str:
    shown = ", ".join(pvs[:5])
    return shown + (f" and {len(pvs) - 5} more" if len(pvs) > 5 else "")


def _failed(pvs: Sequence[str], results: Sequence[Any]) -> list[str]:
    return [pv for pv, r in zip(pvs, results, strict=True) if not getattr(r, "ok", True)]


async def connect_all(pvs: Sequence[str], what: str, attempts: int = ATTEMPTS, timeout: float = BASE_TIMEOUT) -> None:
    """Connect every PV (retrying the ones still missing); raises DriverError naming those that never did."""
    from aioca import connect

    todo = list(dict.fromkeys(pvs))
    for attempt in range(attempts):
        if not todo:
            return
        results = await connect(todo, timeout=timeout * (attempt + 1), throw=False)
        todo = _failed(todo, results)
        if todo:
            await asyncio.sleep(0.5 * (attempt + 1))
    if todo:
        raise DriverError(f"{what}: {len(todo)} PV(s) never connected: {_names(todo)}")


async def put_all(pvs: Sequence[str], values: Sequence[Any], what: str) -> None:
    """caput (with completion) each PV its value; connect first, retry the failures, name the last ones."""
    from aioca import caput

    await connect_all(pvs, what)
    todo = dict(zip(pvs, values, strict=True))
    errors: dict[str, str] = {}
    for attempt in range(ATTEMPTS):
        if not todo:
            return
        names = list(todo)
        results = await caput(
            names, [todo[n] for n in names], wait=True, timeout=BASE_TIMEOUT * (attempt + 1), throw=False
        )
        errors = {n: str(r) for n, r in zip(names, results, strict=True) if not getattr(r, "ok", True)}
        todo = {n: todo[n] for n in errors}
        if todo:
            await asyncio.sleep(0.5 * (attempt + 1))
    if todo:
        first = next(iter(errors.values()), "")
        raise DriverError(f"{what}: caput failed for {len(todo)} PV(s): {_names(list(todo))} ({first})")


async def get_all(pvs: Sequence[str], what: str) -> list[Any]:
    """caget every PV; connect first, retry the failures, name the last ones."""
    from aioca import caget

    await connect_all(pvs, what)
    out: dict[str, Any] = {}
    todo = list(dict.fromkeys(pvs))
    for attempt in range(ATTEMPTS):
        if not todo:
            break
        results = await caget(todo, timeout=BASE_TIMEOUT * (attempt + 1), throw=False)
        for pv, r in zip(todo, results, strict=True):
            if getattr(r, "ok", True):
                out[pv] = r
        todo = [pv for pv in todo if pv not in out]
        if todo:
            await asyncio.sleep(0.5 * (attempt + 1))
    if todo:
        raise DriverError(f"{what}: caget failed for {len(todo)} PV(s): {_names(todo)}")
    return [out[pv] for pv in pvs]
