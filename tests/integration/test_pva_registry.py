"""Protocol-prefixed registry addresses: ca:// and pva://, the default protocol, a CA-only install."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api


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
    from squirrel.services import registry

    monkeypatch.setattr(registry, "_PVA_AVAILABLE", lambda: False)  # a CA-only install (no squirrel[pva])
    r = await api.post("/v1/pvs", json={"setpointAddress": "pva://NOP4P:A"}, scope="write")
    assert r.status_code == 400 and "squirrel[pva]" in r.json()["detail"], r.text
    r = await api.post("/v1/pvs", json={"setpointAddress": "NOP4P:A"}, scope="write")
    assert r.status_code in (200, 201), r.text
