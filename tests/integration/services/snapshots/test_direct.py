"""Direct-read snapshots (use_cache=false) against a real caproto IOC, with a dead address among them."""

from __future__ import annotations

import math
from typing import Any

import pytest

from squirrel.epics.ca import write_many
from squirrel.tools.sim import SimHandle
from tests.conftest import Api

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"roles": ["api", "worker"], "ca_timeout": 2.0}


async def test_direct_snapshot_keeps_fidelity_and_reports_dead_pvs(api: Api, sim_ioc: SimHandle) -> None:
    x = sim_ioc.special
    wave = [1.5, math.nan, -math.inf]
    results = await write_many(
        [(x["double"], 2.5), (x["nan"], math.nan), (x["enum"], "Fault"), (x["string"], "direct"), (x["wave"], wave)],
        timeout=5,
    )
    assert all(r.outcome == "written" for r in results.values()), results
    names = ["double", "nan", "enum", "string", "wave"]
    specs = [{"setpointAddress": x[n]} for n in names] + [{"setpointAddress": "NOWHERE:DEAD:PV"}]
    created = await api.post("/v1/pvs/multi", json=specs, scope="write")
    assert created.status_code == 201, created.text

    r = await api.post("/v1/snapshots?async=false&use_cache=false", json={"title": "direct"}, scope="write")
    assert r.status_code == 201, r.text
    sid = r.json().get("id") or r.json().get("snapshotId")
    snap = (await api.get(f"/v1/snapshots/{sid}", scope="read")).json()
    assert snap["source"] == "direct" and snap["pvCount"] == 6
    by_name = {v["setpointName"]: v["setpointValue"] for v in snap["pvValues"]}

    assert by_name[x["double"]]["value"] == 2.5 and by_name[x["double"]]["connected"] is True
    assert by_name[x["nan"]]["value"] == "NaN" and by_name[x["nan"]]["type"] == "double"
    assert (by_name[x["enum"]]["value"], by_name[x["enum"]]["enumIndex"]) == ("Fault", 2)
    assert (by_name[x["string"]]["value"], by_name[x["string"]]["type"]) == ("direct", "string")
    assert by_name[x["wave"]]["value"][:3] == [1.5, "NaN", "-Infinity"]
    dead = by_name["NOWHERE:DEAD:PV"]
    assert dead is None or dead["connected"] is False
    # The summary says so: one PV without a value, because it never connected.
    assert snap["missingCount"] == 1 and snap["missing"] == {"disconnected": 1, "noValue": 0, "stale": 0}
    assert r.json()["missingCount"] == 1
