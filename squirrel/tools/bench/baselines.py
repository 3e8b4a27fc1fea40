"""Raw aioca baselines on the same PVs, run in their own process so their CA context is separate.

`python -m squirrel.tools.bench.baselines monitor|getput ADDRESSES_FILE SETPOINTS_FILE` prints one JSON
object on stdout. Each mode runs in a fresh process, so `monitor` and the first `caget` are cold
(channel search and connection included), as the service's own start-up is.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

TIMEOUT = 60.0  # replaced by main(): 10 s + 1 s per 1000 addresses


async def camonitor_all(addresses: list[str]) -> dict[str, Any]:
    """`camonitor` every address until each delivered a first value."""
    from aioca import camonitor

    pending = set(addresses)
    done = asyncio.Event()

    def first(value: Any, address: str) -> None:
        pending.discard(address)
        if not pending:
            done.set()

    t0 = time.perf_counter()
    subs = [camonitor(a, lambda v, a=a: first(v, a)) for a in addresses]
    try:
        await asyncio.wait_for(done.wait(), TIMEOUT)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - t0
    for sub in subs:
        sub.close()
    return {"raw_camonitor_all_s": elapsed if not pending else None, "missing": len(pending)}


async def get_put(addresses: list[str], setpoints: list[str]) -> dict[str, Any]:
    """List `caget` of every address (cold, then warm) and list `caput(wait=True)` of every setpoint."""
    from aioca import caget, caput

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    cold = await caget(addresses, timeout=TIMEOUT, throw=False)
    out["raw_caget_cold_s"] = time.perf_counter() - t0
    out["caget_failures"] = sum(1 for v in cold if not getattr(v, "ok", True))
    t0 = time.perf_counter()
    await caget(addresses, timeout=TIMEOUT, throw=False)
    out["raw_caget_warm_s"] = time.perf_counter() - t0
    # Write back what is there, so the baseline changes nothing on the IOCs.
    current = dict(zip(addresses, cold, strict=True))
    pairs = [(sp, current[sp]) for sp in setpoints if getattr(current.get(sp), "ok", False)]
    t0 = time.perf_counter()
    results = await caput([p for p, _ in pairs], [v for _, v in pairs], wait=True, timeout=TIMEOUT, throw=False)
    out["raw_caput_s"] = time.perf_counter() - t0
    out["caput_failures"] = sum(1 for r in results if not r.ok) + len(setpoints) - len(pairs)
    return out


def main(argv: list[str]) -> int:
    mode, addr_file, sp_file = argv
    addresses = Path(addr_file).read_text().split()
    setpoints = Path(sp_file).read_text().split()
    global TIMEOUT
    TIMEOUT = 10.0 + len(addresses) / 1000.0
    from aioca import purge_channel_caches

    async def run() -> dict[str, Any]:
        try:
            if mode == "monitor":
                return await camonitor_all(addresses)
            return await get_put(addresses, setpoints)
        finally:
            purge_channel_caches()

    result = asyncio.run(run())
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # libca threads may still call back into the closed loop: leave without the interpreter tear-down.
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
