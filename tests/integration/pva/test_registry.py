"""Protocol-prefixed registry addresses: ca:// and pva://, the default protocol, a CA-only install."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.pva_server import PvaServer, client_env
from tests.support.snapshots import put_value
from tests.support.waiting import until


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"roles": ["api"], **getattr(request, "param", {})}


async def register(api: Api, *specs: dict[str, Any]) -> list[dict[str, Any]]:
    r = await api.post("/v1/pvs/multi", json=list(specs), scope="write")
    assert r.status_code in (200, 201), r.text
    return list(r.json())


# --- addresses in the registry --------------------------------------------------------------------------
async def test_prefixes_are_kept_and_ca_prefix_is_the_bare_name(api: Api) -> None:
    pvs = await register(api, {"setpointAddress": "ca://PFX:A", "readbackAddress": "pva://PFX:B"})
    assert (pvs[0]["setpointAddress"], pvs[0]["readbackAddress"]) == ("ca://PFX:A", "pva://PFX:B")
    got = (await api.get(f"/v1/pvs/{pvs[0]['id']}", scope="read")).json()
    assert (got["setpointAddress"], got["readbackAddress"]) == ("ca://PFX:A", "pva://PFX:B")
    r = await api.post("/v1/pvs", json={"setpointAddress": "PFX:A"}, scope="write")
    assert r.status_code == 409, r.text  # FOO and ca://FOO are one PV
    r = await api.post("/v1/pvs", json={"setpointAddress": "pva://PFX:A"}, scope="write")
    assert r.status_code in (200, 201), r.text  # another protocol, another PV
    r = await api.post(
        "/v1/pvs/multi", json=[{"setpointAddress": "X:1"}, {"setpointAddress": "ca://X:1"}], scope="write"
    )
    assert r.status_code == 400 and "duplicate" in r.json()["detail"], r.text
    for bad, why in (("xyz://PFX:C", "unknown protocol prefix"), ("pva://", "no PV name"), ("pva://  ", "no PV name")):
        r = await api.post("/v1/pvs", json={"setpointAddress": bad}, scope="write")
        assert r.status_code == 400 and why in r.json()["detail"], (bad, r.text)
    exported = (await api.get("/v1/pvs/export?format=json", scope="read")).json()
    assert {(e["setpointAddress"], e["readbackAddress"]) for e in exported} == {
        ("ca://PFX:A", "pva://PFX:B"),
        ("pva://PFX:A", None),
    }
    csv = (await api.get("/v1/pvs/export?format=csv", scope="read")).text
    assert "ca://PFX:A" in csv and "pva://PFX:B" in csv
    data = b"Setpoint,Readback,Device,Description\npva://IMP:A,ca://IMP:B,,\n"
    r = await api.post("/v1/pvs/import", content=data, scope="write", headers={"Content-Type": "text/csv"})
    assert r.status_code in (200, 201), r.text
    imported = (await api.get(f"/v1/pvs/{r.json()['ids'][0]}", scope="read")).json()
    assert (imported["setpointAddress"], imported["readbackAddress"]) == ("pva://IMP:A", "ca://IMP:B")


@pytest.mark.parametrize("settings_overrides", [{"roles": ["api"], "default_protocol": "pva"}], indirect=True)
async def test_default_protocol_applies_at_registration(api: Api) -> None:
    pvs = await register(api, {"setpointAddress": "DEF:A"}, {"setpointAddress": "ca://DEF:B"})
    assert [p["setpointAddress"] for p in pvs] == ["DEF:A", "ca://DEF:B"]  # shown as written
    r = await api.post("/v1/pvs", json={"setpointAddress": "pva://DEF:A"}, scope="write")
    assert r.status_code == 409, r.text  # the bare name was stored as PVA
    r = await api.post("/v1/pvs", json={"setpointAddress": "DEF:B"}, scope="write")
    assert r.status_code in (200, 201), r.text  # DEF:B under the default is pva://DEF:B, not ca://DEF:B
    r = await api.put(f"/v1/pvs/{pvs[0]['id']}", json={"description": "kept"}, scope="write")
    assert r.status_code == 200 and r.json()["setpointAddress"] == "DEF:A", r.text


async def test_pva_address_without_p4p_is_a_clear_400(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from squirrel.services.registry import _validation as validation

    monkeypatch.setattr(validation, "_PVA_AVAILABLE", lambda: False)  # a CA-only install (no squirrel[pva])
    r = await api.post("/v1/pvs", json={"setpointAddress": "pva://NOP4P:A"}, scope="write")
    assert r.status_code == 400 and "squirrel[pva]" in r.json()["detail"], r.text
    r = await api.post("/v1/pvs", json={"setpointAddress": "NOP4P:A"}, scope="write")
    assert r.status_code in (200, 201), r.text


# --- the monitors follow a re-addressed PV --------------------------------------------------------------
@pytest.mark.parametrize("settings_overrides", [{"roles": ["api", "monitor"]}], indirect=True)
async def test_readdressed_ca_to_pva_moves_between_monitors_without_a_full_reload(api: Api) -> None:
    """The CA monitor applies the registry change alone (drops the CA name, never watches the pva:// key);
    the PVA monitor subscribes the new key."""
    server = PvaServer("PM:")
    server.start()
    try:
        with client_env(server):
            await _follow_readdressed(api)
    finally:
        server.stop()


async def _follow_readdressed(api: Api) -> None:
    ctx = api.client.app.state.ctx
    monitor = ctx.monitor
    async with asyncio.timeout(10):
        while monitor.full_resyncs < 1:  # the start-up load  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    [pv] = await register(api, {"setpointAddress": "PMCA:X"})
    await until(lambda: monitor.watching("PMCA:X"), "CA name watched")
    full = monitor.full_resyncs
    r = await api.put(f"/v1/pvs/{pv['id']}", json={"setpointAddress": "pva://PM:DOUBLE"}, scope="write")
    assert r.status_code == 200, r.text

    def followed() -> bool:
        s = ctx.cache.get("pva://PM:DOUBLE")
        return not monitor.watching("PMCA:X") and s is not None and s.connected and s.value == 1.5

    await until(followed, "pva:// key subscribed by the PVA monitor, CA name dropped")
    assert not monitor.watching("pva://PM:DOUBLE")
    assert monitor.full_resyncs == full


# --- ca:// and pva:// in lookups by address -------------------------------------------------------------
async def test_live_lookup_normalises_prefixes_and_names_a_protocol_mix_up(api: Api) -> None:
    cache = api.client.app.state.ctx.cache
    put_value(cache, "LKP:CA", 1.5)
    put_value(cache, "pva://LKP:PVA", 2.5)
    r = await api.get("/v1/pvs/live?pv_names=ca://LKP:CA,LKP:CA,pva://LKP:PVA", scope="read")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["ca://LKP:CA"]["value"] == 1.5 and got["ca://LKP:CA"]["connected"] is True
    assert got["LKP:CA"]["value"] == 1.5 and got["pva://LKP:PVA"]["value"] == 2.5
    r = await api.post("/v1/pvs/live", json={"pv_names": ["pva://LKP:CA", "LKP:PVA", "ca://LKP:PVA"]}, scope="read")
    wrong = r.json()
    assert wrong["pva://LKP:CA"] == {
        "connected": False,
        "error": "not monitored: pva://LKP:CA names PVAccess, but LKP:CA is a Channel Access PV (ca://LKP:CA)",
    }
    assert "LKP:PVA is a PVAccess PV (pva://LKP:PVA)" in wrong["LKP:PVA"]["error"]  # a bare name is CA
    assert "LKP:PVA is a PVAccess PV (pva://LKP:PVA)" in wrong["ca://LKP:PVA"]["error"]
    r = await api.get("/v1/pvs/live?pv_names=xyz://LKP:CA", scope="read")
    assert r.status_code == 400 and "unknown protocol prefix" in r.json()["detail"], r.text


@pytest.mark.parametrize("settings_overrides", [{"roles": ["api"], "default_protocol": "pva"}], indirect=True)
async def test_live_lookup_of_a_bare_name_follows_the_default_protocol(api: Api) -> None:
    put_value(api.client.app.state.ctx.cache, "pva://LKD:A", 3.5)
    got = (await api.get("/v1/pvs/live?pv_names=LKD:A,pva://LKD:A", scope="read")).json()
    assert got["LKD:A"]["value"] == 3.5 and got["pva://LKD:A"]["value"] == 3.5


CSV_HEAD = "PV,SELECTED,TIMESTAMP,STATUS,SEVERITY,VALUE_TYPE,VALUE,READBACK,READBACK_VALUE,DELTA,READ_ONLY\n"


async def import_csv(api: Api, body: str) -> Any:
    return await api.post(
        "/v1/snapshots/import", content=body.encode(), scope="write", headers={"Content-Type": "text/csv"}
    )


async def test_csv_snapshot_import_normalises_prefixes(api: Api) -> None:
    [ca_pv, pva_pv] = await register(
        api, {"setpointAddress": "CSVN:A", "readbackAddress": "CSVN:A:RB"}, {"setpointAddress": "pva://CSVN:B"}
    )
    rows = "ca://CSVN:A,1,,NO_ALARM,NO_ALARM,DOUBLE,1.5,ca://CSVN:A:RB,1.25,,false\n"
    rows += "pva://CSVN:B,1,,NONE,NO_ALARM,DOUBLE,2.5,,,,false\n"
    r = await import_csv(api, CSV_HEAD + rows)
    assert r.status_code == 201, r.text
    snap = (await api.get(f"/v1/snapshots/{r.json()['id']}", scope="read")).json()
    by_id = {v["pvId"]: v for v in snap["pvValues"]}
    assert set(by_id) == {ca_pv["id"], pva_pv["id"]}  # found in the registry, not stored as unknown PVs
    assert (by_id[ca_pv["id"]]["setpointName"], by_id[ca_pv["id"]]["readbackName"]) == ("CSVN:A", "CSVN:A:RB")
    assert by_id[pva_pv["id"]]["setpointName"] == "pva://CSVN:B"


async def test_csv_snapshot_import_refuses_a_protocol_mix_up(api: Api) -> None:
    await register(api, {"setpointAddress": "CSVW:A"})
    r = await import_csv(api, CSV_HEAD + "pva://CSVW:A,1,,NONE,NO_ALARM,DOUBLE,1.5,,,,false\n")
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == (
        "CSV line 2: PV pva://CSVW:A is not registered: pva://CSVW:A names PVAccess, but CSVW:A is a Channel "
        "Access PV (ca://CSVW:A)"
    )
    r = await import_csv(api, CSV_HEAD + "xyz://CSVW:A,1,,NONE,NO_ALARM,DOUBLE,1.5,,,,false\n")
    assert r.status_code == 400 and r.json()["detail"].startswith("CSV line 2: PV:"), r.text
