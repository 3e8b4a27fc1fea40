"""How long the monitor's registry follow takes at scale: one PV created, applied alone vs a full reload.

`python -m squirrel.tools.bench.registry_sync [ROWS]` starts an embedded PostgreSQL, registers ROWS PVs
(setpoint + readback each), then times, REPEAT times each:
  full:        read every live row + rebuild the mirror + diff against the watched set (a full resync)
  incremental: create one PV, wait for its NOTIFY, read the named row + apply it (what the monitor does)
Channel Access is left out: both paths subscribe the same new addresses, so the difference is here.
Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from squirrel.db.monitor import monitored_rows
from squirrel.db.pool import make_pool, open_pool
from squirrel.pv import RegistryMirror, parse_payload

REPEAT = 20


async def _measure(conninfo: str, rows: int) -> dict[str, Any]:
    from squirrel.db.migrate import migrate

    await migrate(conninfo)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        async with conn.cursor().copy("COPY pv (setpoint_address, readback_address) FROM STDIN") as copy:
            for i in range(rows):
                await copy.write_row((f"RS:{i}:SP", f"RS:{i}:RB"))
    pool = make_pool(conninfo, 1, 2, name="registry-sync-bench")
    await open_pool(pool)
    try:
        mirror = RegistryMirror()
        watched = mirror.replace(await monitored_rows(pool))
        full: list[float] = []
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            wanted = mirror.replace(await monitored_rows(pool))
            _added, _gone = wanted - watched, watched - wanted
            full.append(time.perf_counter() - t0)
        incremental: list[float] = []
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listener:
            await listener.execute("LISTEN squirrel_registry")
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as writer:
                for k in range(REPEAT):
                    await writer.execute(
                        "INSERT INTO pv (setpoint_address, readback_address) VALUES (%s, %s)",
                        (f"RS:NEW{k}:SP", f"RS:NEW{k}:RB"),
                    )
                    note = await anext(listener.notifies(timeout=10.0, stop_after=1))
                    ids = parse_payload(note.payload)
                    assert ids, note.payload
                    t0 = time.perf_counter()
                    added, _removed = mirror.apply(ids, await monitored_rows(pool, ids))
                    watched |= added
                    incremental.append(time.perf_counter() - t0)
    finally:
        await pool.close()
    return {
        "rows": rows,
        "full_resync_ms": round(statistics.median(full) * 1000, 2),
        "incremental_apply_ms": round(statistics.median(incremental) * 1000, 3),
        "repeat": REPEAT,
    }


def main(argv: list[str] | None = None) -> int:
    from squirrel.db.embedded import EmbeddedPostgres

    argv = sys.argv[1:] if argv is None else argv
    rows = int(argv[0]) if argv else 50_000
    with tempfile.TemporaryDirectory(prefix="squirrel-registry-sync-") as tmp:
        pg = EmbeddedPostgres(Path(tmp))
        try:
            result = asyncio.run(_measure(pg.start(), rows))
        finally:
            pg.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
