"""A cache snapshot taken right after the service (and so its monitor) starts waits until the monitor is
warm: every PV delivered its first value, or has been subscribed SQUIRREL_SNAPSHOT_WARMUP s without one.
The registry is filled first by one app; a second app on the same database is the restarted service."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from squirrel.app import create_app
from squirrel.services.monitoring import wait_warm
from squirrel.tools.sim import SimHandle
from tests.conftest import Api, make_settings
from tests.support.snapshots import wait_job

pytestmark = pytest.mark.usefixtures("ca_purge")
WARMUP = 3.0
DEAD = "NOWHERE:WARMUP:DEAD"


async def test_cache_snapshot_right_after_start_waits_for_warm_monitor(
    api: Api, database_url: str, sim_ioc: SimHandle
) -> None:
    body = [{"setpointAddress": p.setpoint, "readbackAddress": p.readback} for p in sim_ioc.pvs]
    body.append({"setpointAddress": DEAD})
    assert (await api.post("/v1/pvs/multi", json=body)).status_code == 201
    count = len(body)

    settings = make_settings(database_url, roles=["api", "monitor", "worker"], snapshot_warmup=WARMUP)
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        restarted = Api(client, api.tokens)
        r = await restarted.post("/v1/snapshots", json={"title": "first after start"})  # cold cache
        assert r.status_code == 202, r.text
        job = await wait_job(restarted, r.json()["jobId"], timeout=60)
        assert job["status"] == "completed", job
        assert job["warnings"] == [f"1 of {count} PVs saved without a value: 1 disconnected"], job
        snap = (await restarted.get(f"/v1/snapshots/{job['resultId']}")).json()
        assert snap["missingCount"] == 1 and snap["missing"]["disconnected"] == 1, snap
        live = [v for v in snap["pvValues"] if v["setpointName"] != DEAD]
        assert len(live) == count - 1
        assert all(v["setpointValue"]["value"] is not None and v["readbackValue"]["value"] is not None for v in live)

        # The dead PV cost its wait once for this monitor start: it counts as warm from now on.
        monitor: Any = app.state.ctx.monitor
        assert monitor.is_warm(DEAD, WARMUP, time.monotonic())
        r = await restarted.post("/v1/snapshots?async=false", json={"title": "second"})
        assert r.status_code == 201 and r.json()["missingCount"] == 1, r.text
        # An address the monitor never subscribes is not waited for forever: it comes back as cold.
        assert await wait_warm(app.state.ctx, ["NOT:REGISTERED:ANYWHERE"]) == ["NOT:REGISTERED:ANYWHERE"]
