"""Scale: 50K PVs in one /v1/pvs/multi, a 100K-row CSV import, and a failing 50K multi writes nothing."""

from __future__ import annotations

import json

from tests.conftest import Api

N = 50_000


def items(prefix: str, n: int, tag: str | None = None) -> bytes:
    rows = [
        {
            "setpointAddress": f"{prefix}:{i:06d}:SP",
            "readbackAddress": f"{prefix}:{i:06d}:RB",
            "device": f"D{i % 100}",
            "description": "bulk",
            "tags": [tag] if tag and i % 2 else [],
        }
        for i in range(n)
    ]
    return json.dumps(rows).encode()


async def total(api: Api) -> int:
    count: int = (await api.get("/v1/pvs/paged?pageSize=1")).json()["totalCount"]
    return count


async def test_multi_50k(api: Api) -> None:
    g = (await api.post("/v1/tags", json={"name": "G"})).json()
    tag = (await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "t"})).json()["group"]["tags"][0]["id"]
    r = await api.post("/v1/pvs/multi", content=items("BULK", N, tag), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text[:500]
    created = r.json()
    assert len(created) == N and len({p["id"] for p in created}) == N
    assert created[1]["tags"][0]["id"] == tag and created[0]["tags"] == []
    assert await total(api) == N
    flt = json.dumps({g["id"]: [tag]})
    assert (await api.get("/v1/pvs/paged", params={"tagFilters": flt, "pageSize": 1})).json()["totalCount"] == N // 2

    # One duplicate at the very end fails the whole request and writes nothing.
    body = json.loads(items("MORE", N))
    body[-1]["setpointAddress"] = "BULK:000007:SP"
    r = await api.post("/v1/pvs/multi", json=body)
    assert r.status_code == 409 and "BULK:000007:SP" in r.json()["detail"]
    assert await total(api) == N


async def test_import_100k_rows(api: Api) -> None:
    text = "Setpoint,Readback,Device,Description,Area\n" + "".join(
        f"CSV:{i}:SP,CSV:{i}:RB,D{i % 10},row {i},A{i % 50};all\n" for i in range(100_000)
    )
    r = await api.post("/v1/pvs/import", content=text.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 201, r.text[:500]
    assert r.json()["createdCount"] == 100_000 and r.json()["tagsCreated"] == 51
    assert await total(api) == 100_000


async def test_import_over_64mb_is_413(api: Api) -> None:
    line = ("X" * 200 + "\n").encode()
    body = b"Setpoint\n" + line * (64_000_000 // len(line) + 10)
    r = await api.post("/v1/pvs/import", content=body, headers={"content-type": "text/csv"})
    assert r.status_code == 413 and r.json()["status"] == 413
    assert await total(api) == 0
