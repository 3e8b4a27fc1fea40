"""Compare shows what changed: one difference per side, the side's own address, delta, side filter, paging.

Real caproto IOC (setpoint/readback pairs whose readbacks move independently), real PostgreSQL, HTTP.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import Api
from tests.integration.services.restore.test_restore import caput, register, snapshot
from tests.support.caproto_ioc import listed_ports
from tests.support.restore_ioc import NOISY, WITH_MONITOR, RestoreIOC, monitor_roles, restore_ioc_fixture

(PORT,) = listed_ports(1)
pytestmark = pytest.mark.usefixtures("ca_purge")
ioc = restore_ioc_fixture("CS:", PORT)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"roles": monitor_roles(request, ["api"]), "ca_timeout": 2.0}


async def noisy_pvs(api: Api, ioc: RestoreIOC) -> tuple[list[str], str]:
    """NOISY setpoint/readback pairs at 1.0 (tolerance 0.01), snapshotted; then two real setpoint changes,
    one real readback change, and readback noise within tolerance on every other readback."""
    sp = [ioc.name(f"n{i}") for i in range(NOISY)]
    rb = [ioc.name(f"n{i}_rb") for i in range(NOISY)]
    await caput([(a, 1.0) for a in sp + rb])
    ids = await register(
        api, *({"setpointAddress": s, "readbackAddress": r, "absTolerance": 0.01} for s, r in zip(sp, rb, strict=True))
    )
    before = await snapshot(api, ids)
    await caput([(sp[1], 2.5), (sp[3], 0.25), *((r, 1.004) for r in rb), (rb[4], 1.5)])
    return ids, before


def shown(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(d["pvName"], d["side"], d["address"]) for d in body["differences"]]


def check_real_changes(body: dict[str, Any], ioc: RestoreIOC) -> None:
    n = ioc.name
    assert shown(body) == [
        (n("n1"), "setpoint", n("n1")),
        (n("n3"), "setpoint", n("n3")),
        (n("n4"), "readback", n("n4_rb")),
    ]
    assert (body["matchCount"], body["differenceCount"], body["matchedCount"]) == (NOISY - 3, 3, 3)
    d = {(x["pvName"], x["side"]): x for x in body["differences"]}
    assert (d[n("n1"), "setpoint"]["value1"], d[n("n1"), "setpoint"]["value2"]) == (1.0, 2.5)
    assert d[n("n1"), "setpoint"]["delta"] == 1.5 and d[n("n3"), "setpoint"]["delta"] == -0.75
    assert d[n("n4"), "readback"]["delta"] == pytest.approx(0.5)
    assert d[n("n4"), "readback"]["reason"] == "readback"


async def test_snapshot_compare_sides_delta_filter_and_paging(api: Api, ioc: RestoreIOC) -> None:
    n = ioc.name
    ids, before = await noisy_pvs(api, ioc)
    after = await snapshot(api, ids, title="after")
    url = f"/v1/snapshots/{before}/compare/{after}"

    body = (await api.get(url, scope="read")).json()
    check_real_changes(body, ioc)

    setpoints = (await api.get(f"{url}?side=setpoint", scope="read")).json()
    assert shown(setpoints) == [(n("n1"), "setpoint", n("n1")), (n("n3"), "setpoint", n("n3"))]
    assert (setpoints["differenceCount"], setpoints["matchedCount"], setpoints["matchCount"]) == (3, 2, NOISY - 3)

    # Without tolerance the readback noise shows, each beside (never instead of) its PV's setpoint change.
    exact = (await api.get(f"{url}?absTolerance=0", scope="read")).json()
    every = [
        (n(f"n{i}"), side)
        for i in range(NOISY)
        for side in ("setpoint", "readback")
        if side == "readback" or i in (1, 3)
    ]
    assert [(d["pvName"], d["side"]) for d in exact["differences"]] == every
    assert exact["differenceCount"] == len(every) and exact["matchCount"] == 0
    assert all(d["address"] == d["pvName"] + "_rb" for d in exact["differences"] if d["side"] == "readback")

    page = (await api.get(f"{url}?absTolerance=0&limit=3&offset=1", scope="read")).json()
    assert [(d["pvName"], d["side"]) for d in page["differences"]] == every[1:4]
    assert (page["differenceCount"], page["matchedCount"]) == (len(every), len(every))
    page = (await api.get(f"{url}?absTolerance=0&side=readback&limit=2&offset=4", scope="read")).json()
    assert [(d["pvName"], d["side"]) for d in page["differences"]] == [(n("n4"), "readback"), (n("n5"), "readback")]
    assert (page["differenceCount"], page["matchedCount"]) == (len(every), NOISY)
    beyond = (await api.get(f"{url}?limit=5&offset=100", scope="read")).json()
    assert beyond["differences"] == [] and beyond["differenceCount"] == 3

    for bad, name in (("side=both", "side"), ("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset")):
        r = await api.get(f"{url}?{bad}", scope="read")
        assert r.status_code == 400 and name in r.text, (bad, r.text)


@WITH_MONITOR
async def test_live_compare_sides_delta_filter_and_paging(api: Api, ioc: RestoreIOC) -> None:
    n = ioc.name
    _, before = await noisy_pvs(api, ioc)
    url = f"/v1/snapshots/{before}/compare/live"
    deadline = time.monotonic() + 20
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:  # until the monitor's cache holds the changed values
        body = (await api.get(f"{url}?absTolerance=0", scope="read")).json()
        if body["differenceCount"] == NOISY + 2:
            break
        await asyncio.sleep(0.2)
    assert body["differenceCount"] == NOISY + 2, body

    check_real_changes((await api.get(url, scope="read")).json(), ioc)
    readbacks = (await api.get(f"{url}?side=readback&limit=1", scope="read")).json()
    assert shown(readbacks) == [(n("n4"), "readback", n("n4_rb"))]
    assert (readbacks["differenceCount"], readbacks["matchedCount"]) == (3, 1)
    noise = (await api.get(f"{url}?absTolerance=0&side=readback&offset=1&limit=1", scope="read")).json()
    assert [(d["pvName"], d["address"]) for d in noise["differences"]] == [(n("n1"), n("n1_rb"))]
    assert noise["differences"][0]["delta"] == pytest.approx(0.004)
    assert noise["matchedCount"] == NOISY
