"""The PVA monitor follows the registry as the CA monitor does: a notification's ids are applied alone
(only their keys (un)subscribed), and a cache snapshot right after start waits for its warm-up."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from squirrel.app import create_app
from tests.conftest import Api, make_settings
from tests.support.pva_server import PvaServer, client_env
from tests.support.waiting import until

PREFIX = "PMON:"
WARMUP = 3.0


pytestmark = pytest.mark.usefixtures("pva_env")


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"roles": ["api", "monitor", "worker"], **getattr(request, "param", {})}


def pva(name: str) -> str:
    return f"pva://{PREFIX}{name}"


async def pva_health(api: Api) -> dict[str, Any]:
    r = await api.get("/v1/health/monitor", scope="read")
    assert r.status_code == 200, r.text
    return dict(r.json()["pva"])


async def test_registry_changes_subscribe_and_unsubscribe_only_those_pvs(api: Api) -> None:
    r = await api.post("/v1/pvs", json={"setpointAddress": pva("DOUBLE")}, scope="write")
    assert r.status_code == 201, r.text
    cache = api.client.app.state.ctx.cache

    def connected(key: str) -> bool:
        s = cache.get(key)
        return s is not None and s.connected

    await until(lambda: connected(pva("DOUBLE")), "the first PV connected")
    before = await pva_health(api)
    assert before["subscribed"] == 1 and before["full_resyncs"] >= 1, before
    first = cache.get(pva("DOUBLE"))

    body = [{"setpointAddress": pva("INT")}, {"setpointAddress": pva("STRING"), "readbackAddress": pva("DOUBLE")}]
    r = await api.post("/v1/pvs/multi", json=body, scope="write")
    assert r.status_code == 201, r.text
    await until(lambda: connected(pva("INT")) and connected(pva("STRING")), "the new PVs connected")
    added = await pva_health(api)
    assert added["subscribed"] == 3, added
    assert added["full_resyncs"] == before["full_resyncs"], added  # applied alone, no reload of every row
    assert added["incremental_applies"] > before["incremental_applies"], added
    assert cache.get(pva("DOUBLE")) is first  # the PV already watched was left alone

    r = await api.delete(f"/v1/pvs/{r.json()[1]['id']}", scope="write")
    assert r.status_code in (200, 204), r.text
    await until(lambda: cache.get(pva("STRING")) is None, "the deleted PV's key unsubscribed")
    gone = await pva_health(api)
    assert gone["subscribed"] == 2 and gone["full_resyncs"] == before["full_resyncs"], gone
    assert cache.get(pva("DOUBLE")) is first  # no longer a readback, still the first PV's setpoint
    assert connected(pva("INT"))


# Only the restarted app runs a monitor and a worker: the snapshot is its, against its cold monitor.
@pytest.mark.parametrize("settings_overrides", [{"roles": ["api"]}], indirect=True)
async def test_cache_snapshot_right_after_start_waits_for_pva_warm_up(api: Api, database_url: str) -> None:
    """Taken as the service starts, before its PVA subscriptions connected: waited for, not missing
    (without the wait they were all recorded disconnected)."""
    late = PvaServer("PWARM:")
    names = ["DOUBLE", "INT", "STRING", "ADOUBLE", "ENUM"]
    body = [{"setpointAddress": f"pva://PWARM:{n}"} for n in names] + [{"setpointAddress": "pva://PWARM:DEAD"}]
    r = await api.post("/v1/pvs/multi", json=body, scope="write")
    assert r.status_code == 201, r.text

    settings = make_settings(database_url, roles=["api", "monitor", "worker"], snapshot_warmup=WARMUP)
    app = create_app(settings)
    try:
        late.start()
        with client_env(late):
            async with AsyncTestClient(app=app) as client:
                restarted = Api(client, api.tokens)
                t0 = time.monotonic()
                r = await restarted.post(
                    "/v1/snapshots?async=false&use_cache=true", json={"title": "first after start"}
                )
                assert r.status_code == 201, r.text
                assert r.json()["missingCount"] == 1, r.text  # the dead PV only: the live ones were waited for
                assert time.monotonic() - t0 < WARMUP + 10  # the dead PV costs the warm-up once, not a hang
                snap = (await restarted.get(f"/v1/snapshots/{r.json()['id']}", scope="read")).json()
                values = {v["setpointName"]: v["setpointValue"] for v in snap["pvValues"]}
                assert all(values[f"pva://PWARM:{n}"]["value"] is not None for n in names), values

                monitor: Any = app.state.ctx.pva_monitor  # the dead PV counts as warm from now on
                assert monitor.is_warm("pva://PWARM:DEAD", WARMUP, time.monotonic())
    finally:
        late.stop()
