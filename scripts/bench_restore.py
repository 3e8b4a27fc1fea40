"""Measure a restore of N setpoints with put-completion against soft IOCs (default 25K over 4 IOCs).

    .venv/bin/python scripts/bench_restore.py [--pairs 25000] [--iocs 4] [--monitor]

Starts real soft IOCs (epicscorelibs), an embedded PostgreSQL and the app in-process (api + worker
roles, optionally the monitor), registers the setpoint/readback pairs, snapshots them, moves every
setpoint, then times: the raw batched put-with-completion of the same setpoints (baseline), and restores
through the API (POST → job completed) without and with backup, and with verify.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def run(pairs: int, iocs: int, monitor: bool) -> dict[str, Any]:
    from squirrel.tools.bench.softioc import start_softiocs

    ioc_set = start_softiocs(pairs * 2, iocs)
    os.environ["EPICS_CA_ADDR_LIST"] = ioc_set.addr_list
    os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
    os.environ.setdefault("EPICS_CA_MAX_ARRAY_BYTES", "10000000")

    from litestar.testing import AsyncTestClient

    from squirrel.app import create_app
    from squirrel.db.embedded import EmbeddedPostgres
    from squirrel.epics.ca import write_many
    from squirrel.logsetup import configure_logging
    from squirrel.services.keys import SYSTEM
    from squirrel.settings import load_settings

    configure_logging("info", json=False)
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("saq").setLevel(logging.WARNING)
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="squirrel-bench-restore-", dir="/tmp")))
    uri = pg.start()
    roles = ["api", "worker"] + (["monitor"] if monitor else [])
    settings = load_settings({}, database_url=uri, roles=roles, ca_put_timeout=120.0, ca_timeout=30.0)
    out: dict[str, Any] = {"pairs": pairs, "iocs": iocs, "monitor": monitor}
    try:
        app = create_app(settings)
        async with AsyncTestClient(app=app, timeout=600) as client:
            key = await app.state.key_service.create(SYSTEM, "bench-restore", ["admin"])
            h = {"X-API-Key": key.token}
            specs = [{"setpointAddress": sp, "readbackAddress": rb} for sp, rb in ioc_set.pairs]
            r = await client.post("/v1/pvs/multi", json=specs, headers=h)
            assert r.status_code in (200, 201), r.text[:500]
            ids = [pv["id"] for pv in r.json()]
            if monitor:
                await asyncio.sleep(10)  # let the monitor connect everything
            r = await client.post(
                "/v1/snapshots?async=false&use_cache=false", json={"title": "bench", "pvIds": ids}, headers=h
            )
            assert r.status_code == 201, r.text[:500]
            sid = r.json()["id"]
            setpoints = ioc_set.setpoints

            t0 = time.perf_counter()
            res = await write_many([(sp, 1.0) for sp in setpoints], 120.0, wait=True)
            out["raw_put_completion_s"] = round(time.perf_counter() - t0, 3)
            out["raw_written"] = sum(1 for w in res.values() if w.outcome == "written")

            for label, body in (
                ("restore_s", {"backup": False}),
                ("restore_with_backup_s", {"backup": True}),
                ("restore_verify_s", {"backup": False, "verify": True}),
            ):
                await write_many([(sp, 2.0) for sp in setpoints], 120.0, wait=True)
                t0 = time.perf_counter()
                r = await client.post(f"/v1/snapshots/{sid}/restore", json=body, headers=h)
                assert r.status_code == 202, r.text
                job_id = r.json()["jobId"]
                while True:
                    job = (await client.get(f"/v1/jobs/{job_id}", headers=h)).json()
                    if job["status"] in ("completed", "failed", "cancelled"):
                        break
                    await asyncio.sleep(0.05)
                out[label] = round(time.perf_counter() - t0, 3)
                out[label.replace("_s", "_counts")] = (job.get("result") or {}).get("counts") or job.get("error")
    finally:
        ioc_set.stop()
        pg.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=25_000)
    parser.add_argument("--iocs", type=int, default=4)
    parser.add_argument("--monitor", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.pairs, args.iocs, args.monitor)), indent=2))


if __name__ == "__main__":
    main()
