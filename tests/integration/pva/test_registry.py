"""Protocol-prefixed registry addresses: ca:// and pva://, the default protocol, a CA-only install."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.pva_server import PvaServer, client_env


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


async def until(cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not cond():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
