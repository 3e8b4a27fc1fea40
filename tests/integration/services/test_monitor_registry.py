"""The monitor applies single registry changes alone (no full reload); bulk imports reload once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from squirrel.pv import PVCache
from tests.conftest import Api
from tests.support.waiting import until

WAIT = 10.0  # s for the monitor to follow a registry change

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"roles": ["api", "monitor"]}


async def monitor(api: Api) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get("/v1/health/monitor", scope="read")).json()
    return body


async def test_single_creates_updates_deletes_are_applied_without_a_full_reload(api: Api) -> None:
    cache: PVCache = api.client.app.state.ctx.cache
    async with asyncio.timeout(10):
        while (await monitor(api))["full_resyncs"] < 1:  # the start-up load  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    before = await monitor(api)

    r = await api.post("/v1/pvs", json={"setpointAddress": "INC:A:SP", "readbackAddress": "INC:A:RB"})
    assert r.status_code == 201, r.text
    pv_id = r.json()["id"]
    await until(lambda: "INC:A:SP" in cache and "INC:A:RB" in cache, "created PV watched", timeout=WAIT)
    r = await api.put(f"/v1/pvs/{pv_id}", json={"readbackAddress": "INC:A:RB2"})
    assert r.status_code == 200, r.text
    await until(
        lambda: "INC:A:RB2" in cache and "INC:A:RB" not in cache, "re-addressed readback followed", timeout=10.0
    )
    r = await api.put(f"/v1/pvs/{pv_id}", json={"description": "no address change"})
    assert r.status_code == 200, r.text
    assert (await api.delete(f"/v1/pvs/{pv_id}")).status_code == 200
    await until(lambda: "INC:A:SP" not in cache and "INC:A:RB2" not in cache, "deleted PV dropped", timeout=WAIT)

    after = await monitor(api)
    assert after["full_resyncs"] == before["full_resyncs"], (before, after)
    assert after["incremental_applies"] >= before["incremental_applies"] + 3
    assert after["subscribed"] == before["subscribed"]


async def test_a_bulk_import_too_big_to_name_reloads_once(api: Api) -> None:
    cache: PVCache = api.client.app.state.ctx.cache
    async with asyncio.timeout(10):
        while (await monitor(api))["full_resyncs"] < 1:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    before = await monitor(api)
    body = [{"setpointAddress": f"BULK:{i}:SP"} for i in range(300)]  # more ids than one NOTIFY carries
    r = await api.post("/v1/pvs/multi", json=body)
    assert r.status_code == 201, r.text
    await until(lambda: all(f"BULK:{i}:SP" in cache for i in range(300)), "bulk import watched", timeout=WAIT)
    after = await monitor(api)
    assert after["full_resyncs"] == before["full_resyncs"] + 1, (before, after)
    assert after["subscribed"] == before["subscribed"] + 300
