"""PVAccess PVs beside Channel Access: registry prefixes, monitor, snapshots, compare and restore.

A real p4p server (tests/support/pva_server.py) runs in a subprocess on loopback ports of its own."""

from __future__ import annotations

import asyncio
import math
import os
import time
from typing import Any

import pytest

from squirrel.pv import PVCache
from squirrel.pva import client
from tests.conftest import Api
from tests.support.pva_server import SCALARS, PvaServer
from tests.support.snapshots import wait_job
from tests.support.waiting import wait_for

PREFIX = "PT:"
TYPES = {
    "DOUBLE": "double", "FLOAT": "float", "BYTE": "byte", "UBYTE": "ubyte", "SHORT": "short",
    "USHORT": "ushort", "INT": "int", "UINT": "uint", "LONG": "long", "ULONG": "ulong", "BOOL": "boolean",
    "STRING": "string", "NAN": "double", "ADOUBLE": "double[]", "AFLOAT": "float[]", "ABYTE": "byte[]",
    "AUBYTE": "ubyte[]", "ASHORT": "short[]", "AUSHORT": "ushort[]", "AINT": "int[]", "AUINT": "uint[]",
    "ALONG": "long[]", "AULONG": "ulong[]", "ABOOL": "boolean[]", "ASTRING": "string[]", "ENUM": "enum",
}  # fmt: skip
CHANGED: dict[str, Any] = {
    "DOUBLE": -7.5, "FLOAT": 3.5, "BYTE": 5, "UBYTE": 6, "SHORT": 7, "USHORT": 8, "INT": 9, "UINT": 10,
    "LONG": -(2**62), "ULONG": 12, "BOOL": False, "STRING": "changed", "NAN": 2.0, "ADOUBLE": [0.0],
    "AFLOAT": [1.0, 2.0, 3.0], "ABYTE": [1], "AUBYTE": [2], "ASHORT": [3], "AUSHORT": [4], "AINT": [5],
    "AUINT": [6], "ALONG": [7], "AULONG": [8], "ABOOL": [False], "ASTRING": ["x"], "ENUM": 0,
}  # fmt: skip


pytestmark = pytest.mark.usefixtures("pva_env")


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    extra = getattr(request, "param", {})
    return {"roles": ["api", "monitor", "worker"], "ca_timeout": 1.0, "ca_put_timeout": 3.0, **extra}


def pva(name: str) -> str:
    return f"pva://{PREFIX}{name}"


def server_put(items: dict[str, Any]) -> None:
    """Change values on the server through an independent p4p client."""
    from p4p.client.thread import Context

    with Context("pva", nt=False) as ctxt:
        for name, value in items.items():
            if "." in name:  # a metadata field of DOUBLE, e.g. display.units
                ctxt.put(PREFIX + "DOUBLE", {name: value}, timeout=5.0)
                continue
            field = "value.index" if name == "ENUM" else "value"
            ctxt.put(PREFIX + name, {field: value}, timeout=5.0)


def server_get(names: list[str]) -> dict[str, Any]:
    from p4p.client.thread import Context

    with Context("pva", nt=False) as ctxt:
        values = ctxt.get([PREFIX + n for n in names], timeout=5.0)
    out: dict[str, Any] = {}
    for name, v in zip(names, values, strict=True):
        raw = v["value.index"] if name == "ENUM" else v["value"]
        out[name] = raw.tolist() if hasattr(raw, "tolist") else raw
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b) and type(a) is type(b)


def wire(value: Any) -> Any:
    """A value as the JSON API shows it (non-finite floats as strings)."""
    if isinstance(value, list):
        return [wire(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def cache_of(api: Api) -> PVCache:
    cache: PVCache = api.client.app.state.ctx.cache
    return cache


async def register(api: Api, *specs: dict[str, Any]) -> list[dict[str, Any]]:
    r = await api.post("/v1/pvs/multi", json=list(specs), scope="write")
    assert r.status_code in (200, 201), r.text
    return list(r.json())


async def snapshot(api: Api, ids: list[str], use_cache: bool) -> dict[str, Any]:
    flag = "true" if use_cache else "false"
    r = await api.post(
        f"/v1/snapshots?async=false&use_cache={flag}", json={"title": "pva", "pvIds": ids}, scope="write"
    )
    assert r.status_code == 201, r.text
    sid = r.json().get("id") or r.json().get("snapshotId")
    body = (await api.get(f"/v1/snapshots/{sid}", scope="read")).json()
    return dict(body)


def initial(name: str) -> Any:
    return "On" if name == "ENUM" else SCALARS[name][1]


# --- the full cycle, every normative type ---------------------------------------------------------------
async def test_full_cycle_every_normative_type(api: Api, pva_server: PvaServer) -> None:
    names = list(TYPES)
    pvs = await register(api, *({"setpointAddress": pva(n)} for n in names), {"setpointAddress": pva("TABLE")})
    ids = [p["id"] for p in pvs]
    assert [p["setpointAddress"] for p in pvs] == [pva(n) for n in [*names, "TABLE"]]
    cache = cache_of(api)
    await wait_for(lambda: all((s := cache.get(pva(n))) is not None and s.has_value for n in names), 20, "monitor")
    await wait_for(lambda: (s := cache.get(pva("TABLE"))) is not None and s.status == "UNSUPPORTED", 10, "table")

    monitor = (await api.get("/v1/health/monitor", scope="read")).json()
    assert monitor["pva"]["subscribed"] == len(names) + 1 and monitor["pva"]["connected"] == len(names) + 1
    assert "NTTable" in monitor["pva"]["unsupported"][pva("TABLE")]
    live = (await api.get(f"/v1/pvs/live?pv_names={pva('DOUBLE')}", scope="read")).json()[pva("DOUBLE")]
    assert (live["value"], live["type"], live["status"], live["severity"], live["units"]) == (
        1.5,
        "double",
        "RECORD",
        1,
        "mm",
    )

    snaps = [await snapshot(api, ids, use_cache) for use_cache in (True, False)]
    for snap in snaps:
        sides = {v["pvName"]: v["setpointValue"] for v in snap["pvValues"]}
        for n in names:
            side = sides[pva(n)]
            assert (side["type"], side["value"], side["connected"]) == (TYPES[n], wire(initial(n)), True), n
            assert side["timestampNs"] == 1_700_000_000_123_456_789, n
        d = sides[pva("DOUBLE")]
        assert (d["status"], d["severity"], d["units"], d["lower_ctrl_limit"], d["upper_ctrl_limit"]) == (
            "RECORD",
            1,
            "mm",
            -100.0,
            100.0,
        )
        assert d["alarmMessage"] == "HIGH" and sides[pva("FLOAT")]["alarmMessage"] is None
        assert (sides[pva("ENUM")]["enumIndex"], sides[pva("ENUM")]["enum_strings"]) == (1, ["Off", "On", "Fault"])
        table = sides[pva("TABLE")]
        assert table["value"] is None and not table["connected"] and table["status"] == "UNSUPPORTED"
    sid = snaps[1]["id"]

    await asyncio.to_thread(server_put, CHANGED)
    diff: dict[str, Any] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        diff = (await api.get(f"/v1/snapshots/{sid}/compare/live", scope="read")).json()
        if {pva(n) for n in names} <= {d["pvName"] for d in diff["differences"]}:
            break
        await asyncio.sleep(0.2)
    assert {pva(n) for n in names} <= {d["pvName"] for d in diff["differences"]}, diff

    r = await api.post(f"/v1/snapshots/{sid}/restore?dryRun=true", json={}, scope="read")
    assert r.status_code == 200, r.text
    actions = {i["pvName"]: i["action"] for i in r.json()["items"]}
    assert all(actions[pva(n)] == "write" for n in names), actions
    assert actions[pva("TABLE")] != "write"

    r = await api.post(f"/v1/snapshots/{sid}/restore", json={"verify": True}, scope="restore")
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"], timeout=60.0)
    # The unsupported TABLE has no stored value: it is the one PV not restored, so the job ends failed
    # (API.md: completed only when failureCount is 0); every supported type is written and verified.
    assert (job["status"], job["error"]) == ("failed", "1 of 27 PVs not restored: 1 failed"), job
    outcomes = {i["pvName"]: (i["outcome"], i["error"]) for i in job["result"]["items"]}
    assert outcomes[pva("TABLE")] == ("failed", "no stored value to write"), outcomes
    assert all(outcomes[pva(n)] == ("verified", None) for n in names), outcomes

    held = await asyncio.to_thread(server_get, names)
    for n in names:
        expected = 1 if n == "ENUM" else initial(n)
        assert same(held[n], expected), (n, held[n], expected)


# --- CA and PVA side by side ----------------------------------------------------------------------------
@pytest.mark.usefixtures("ca_purge")
async def test_mixed_ca_and_pva_in_one_snapshot_and_restore(api: Api, sim_ioc: Any) -> None:
    ca_double = sim_ioc.special["double"]
    pvs = await register(
        api,
        {"setpointAddress": pva("FLOAT"), "readbackAddress": ca_double},  # PVA setpoint, CA readback
        {"setpointAddress": f"ca://{ca_double}"},
        {"setpointAddress": pva("INT")},
    )
    ids = [p["id"] for p in pvs]
    cache = cache_of(api)
    keys = [pva("FLOAT"), ca_double, pva("INT")]
    await wait_for(lambda: all((s := cache.get(k)) is not None and s.has_value for k in keys), 20, "both monitors")
    monitor = (await api.get("/v1/health/monitor", scope="read")).json()
    assert monitor["subscribed"] >= 1 and monitor["pva"]["subscribed"] == 2
    for use_cache in (True, False):
        snap = await snapshot(api, ids, use_cache)
        rows = {v["pvId"]: v for v in snap["pvValues"]}
        first = rows[ids[0]]
        assert first["setpointName"] == pva("FLOAT") and first["readbackName"] == ca_double
        assert first["setpointValue"]["type"] == "float" and first["readbackValue"]["type"] == "double"
        assert rows[ids[1]]["setpointValue"]["type"] == "double" and rows[ids[1]]["setpointValue"]["connected"]
        assert rows[ids[2]]["setpointValue"]["value"] == -2_000_000_000
    sid = snap["id"]
    ca_value = rows[ids[1]]["setpointValue"]["value"]
    await asyncio.to_thread(server_put, {"FLOAT": 9.5, "INT": 4})
    r = await api.post(f"/v1/snapshots/{sid}/restore", json={"pvIds": ids[1:], "verify": True}, scope="restore")
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"], timeout=60.0)
    assert job["status"] == "completed", job
    assert {i["outcome"] for i in job["result"]["items"]} == {"verified"}, job["result"]
    held = await asyncio.to_thread(server_get, ["INT"])
    assert held["INT"] == -2_000_000_000
    assert cache.get(ca_double) is not None and cache.get(ca_double).value == ca_value  # type: ignore[union-attr]


# --- a PVA server that stops ----------------------------------------------------------------------------
async def test_server_restart_is_seen_and_recovered(api: Api) -> None:
    server = PvaServer("PR:")
    server.start()
    try:
        os.environ.update(server.client_env())
        client.close()
        names = ["DOUBLE", "ENUM", "ADOUBLE"]
        await register(api, *({"setpointAddress": f"pva://PR:{n}"} for n in names))
        cache = cache_of(api)
        keys = [f"pva://PR:{n}" for n in names]

        def all_connected() -> bool:
            return all((s := cache.get(k)) is not None and s.connected and s.has_value for k in keys)

        await wait_for(all_connected, 20, "connect")
        server.stop()
        await wait_for(
            lambda: not any((s := cache.get(k)) is not None and s.connected for k in keys), 1.0, "disconnect"
        )
        down = (await api.get("/v1/health/disconnected", scope="read")).json()
        assert set(keys) <= set(down["disconnected_pvs"])
        server.start()
        await wait_for(all_connected, 15, "reconnect")
        assert cache.get(keys[0]).value == 1.5  # type: ignore[union-attr]
    finally:
        server.stop()


@pytest.mark.parametrize("settings_overrides", [{"roles": ["api", "worker"], "ca_timeout": 1.0}], indirect=True)
async def test_dead_server_costs_one_timeout_in_a_direct_snapshot(api: Api) -> None:
    server = PvaServer("PD:")
    names = list(TYPES)
    pvs = await register(api, *({"setpointAddress": f"pva://PD:{n}"} for n in names))
    os.environ.update(server.client_env())  # its ports, but nobody serves them
    client.close()
    t0 = time.monotonic()
    snap = await snapshot(api, [p["id"] for p in pvs], use_cache=False)
    elapsed = time.monotonic() - t0
    assert elapsed < 5.0, f"{len(names)} dead PVs took {elapsed:.1f} s: one timeout each?"
    sides = [v["setpointValue"] for v in snap["pvValues"]]
    assert len(sides) == len(names) and not any(s["connected"] for s in sides)
    # One failure for the batch on the circuit of the dead server's PVs (keyed pva:<device>).
    circuits = {c["name"]: c for c in (await api.get("/v1/health/circuits", scope="read")).json()["circuits"]}
    assert circuits["pva:PD"]["consecutive_failures"] == 1 and circuits["pva:PD"]["last_error"] == "timeout", circuits


async def test_metrics_are_split_by_protocol(api: Api) -> None:
    await register(api, {"setpointAddress": pva("DOUBLE")})
    cache = cache_of(api)
    await wait_for(lambda: (s := cache.get(pva("DOUBLE"))) is not None and s.has_value, 20, "monitor")
    text = (await api.get("/metrics", scope="admin")).text
    assert 'squirrel_protocol_pvs{protocol="pva",state="connected"} 1.0' in text, text
    assert 'squirrel_protocol_pvs{protocol="ca",state="connected"} 0.0' in text
    assert 'squirrel_protocol_pv_updates_total{protocol="pva"}' in text


async def test_sim_ioc_pva_server_and_listing(tmp_path: Any) -> None:
    from squirrel.cli.sim import write_pva_listing
    from squirrel.services import _pv_io as pv_io
    from squirrel.tools.pva_sim import PvaSim

    sim = PvaSim("SIMT:", 3)
    try:
        os.environ.update(sim.client_env())
        client.close()
        keys = [f"pva://{name}" for pair in sim.pairs for name in pair]
        states = await pv_io.read_many(keys, 5.0)
        assert [states[k].value for k in keys] == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
        assert {states[k].units for k in keys} == {"mm"}
        written = await pv_io.write_many([(keys[0], 42.5)], 5.0)
        assert written[keys[0]].outcome == "written"
        assert (await pv_io.read_many(keys[:1], 5.0))[keys[0]].value == 42.5
        listing = tmp_path / "pvs.csv"
        assert write_pva_listing(sim, listing, append=False) == 3
        assert listing.read_text().splitlines()[1].startswith("pva://SIMT:00000:SP,pva://SIMT:00000:RB,")
    finally:
        sim.stop()


async def test_drive_limits_come_from_control_not_value_alarm(api: Api) -> None:
    pvs = await register(api, {"setpointAddress": pva("DOUBLE")})
    cache = cache_of(api)
    await wait_for(lambda: (s := cache.get(pva("DOUBLE"))) is not None and s.has_value, 20, "monitor")
    try:
        await asyncio.to_thread(server_put, {"DOUBLE": 500.0})  # beyond control.limitHigh = 100
        over = await snapshot(api, [pvs[0]["id"]], use_cache=False)
        await asyncio.to_thread(server_put, {"DOUBLE": 50.0})  # above valueAlarm.highAlarmLimit = 1, within control
        within = await snapshot(api, [pvs[0]["id"]], use_cache=False)
        await asyncio.to_thread(server_put, {"DOUBLE": 1.5})
        await wait_for(lambda: cache.get(pva("DOUBLE")).value == 1.5, 10, "monitor update")  # type: ignore[union-attr]
        for snap, action in ((over, "out_of_limits"), (within, "write")):
            r = await api.post(f"/v1/snapshots/{snap['id']}/restore?dryRun=true", json={}, scope="read")
            assert r.status_code == 200, r.text
            assert r.json()["items"][0]["action"] == action, r.json()
    finally:
        await asyncio.to_thread(server_put, {"DOUBLE": 1.5})


async def test_monitor_follows_metadata_changes_and_skips_them_otherwise(api: Api) -> None:
    await register(api, {"setpointAddress": pva("DOUBLE")})
    cache = cache_of(api)
    await wait_for(lambda: (s := cache.get(pva("DOUBLE"))) is not None and s.units == "mm", 20, "monitor")
    try:
        await asyncio.to_thread(server_put, {"display.units": "cm"})
        await wait_for(lambda: cache.get(pva("DOUBLE")).units == "cm", 10, "new units")  # type: ignore[union-attr]
        await asyncio.to_thread(server_put, {"DOUBLE": 2.5})  # a value-only update keeps the metadata
        await wait_for(lambda: cache.get(pva("DOUBLE")).value == 2.5, 10, "new value")  # type: ignore[union-attr]
        state = cache.get(pva("DOUBLE"))
        assert state is not None and (state.units, state.upper_ctrl_limit) == ("cm", 100.0)
    finally:
        await asyncio.to_thread(server_put, {"display.units": "mm", "DOUBLE": 1.5})
