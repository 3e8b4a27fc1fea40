"""Tag group and tag routes over HTTP against the real app and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.integration.api.test_pvs_bad_input import problem


async def group(api: Api, name: str, description: str | None = None) -> dict[str, Any]:
    r = await api.post("/v1/tags", json={"name": name, "description": description}, scope="write")
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_group_lifecycle(api: Api) -> None:
    g = await group(api, "Area", "where")
    assert g["name"] == "Area" and g["description"] == "where" and g["tags"] == []
    assert g["createdDate"].endswith("Z") and g["lastModifiedDate"].endswith("Z")

    r = await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "LI22", "description": "linac"}, scope="write")
    assert r.status_code == 201 and r.json()["wasCreated"] is True
    tag = r.json()["group"]["tags"][0]
    assert tag["name"] == "LI22" and tag["description"] == "linac" and tag["groupId"] == g["id"]

    # Duplicate tag names (any case): 409, or 200 + wasCreated=false with skip_duplicates.
    r = await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "li22"})
    problem(r, 409, "'LI22' (names are case-insensitive)")
    r = await api.post(f"/v1/tags/{g['id']}/tags?skip_duplicates=true", json={"name": "li22"})
    assert r.status_code == 200 and r.json()["wasCreated"] is False and len(r.json()["group"]["tags"]) == 1

    listed = (await api.get("/v1/tags", scope="read")).json()
    assert listed == [{"id": g["id"], "name": "Area", "description": "where", "tagCount": 1}]
    one = (await api.get(f"/v1/tags/{g['id']}", scope="read")).json()
    assert isinstance(one, list) and len(one) == 1 and one[0]["tags"][0]["id"] == tag["id"]

    r = await api.put(f"/v1/tags/{g['id']}", json={"name": "Sector"}, scope="write")
    assert r.status_code == 200 and r.json()["name"] == "Sector" and r.json()["description"] == "where"
    r = await api.put(f"/v1/tags/{g['id']}", json={"description": None})
    assert r.json()["description"] is None and r.json()["name"] == "Sector"

    r = await api.put(f"/v1/tags/{g['id']}/tags/{tag['id']}", json={"name": "LI-22"}, scope="write")
    assert r.status_code == 200 and r.json()["tags"][0]["name"] == "LI-22"
    assert r.json()["tags"][0]["description"] == "linac"

    r = await api.delete(f"/v1/tags/{g['id']}/tags/{tag['id']}", scope="write")
    assert r.status_code == 200 and r.json()["tags"] == []
    problem(await api.delete(f"/v1/tags/{g['id']}/tags/{tag['id']}"), 404, "not found")

    r = await api.delete(f"/v1/tags/{g['id']}", scope="write")
    assert r.status_code == 200 and r.json()["deleted"] is True
    problem(await api.get(f"/v1/tags/{g['id']}"), 404, "not found")
    assert (await api.get("/v1/tags")).json() == []

    actions = {e["action"] for e in (await api.get("/v1/audit?limit=100")).json()["results"]}
    assert {
        "tag_group.create",
        "tag_group.update",
        "tag.create",
        "tag.update",
        "tag.delete",
        "tag_group.delete",
    } <= actions


async def test_deleting_group_or_tag_removes_them_from_pvs(api: Api) -> None:
    g = await group(api, "Kind")
    r = await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "mag"})
    mag = r.json()["group"]["tags"][0]["id"]
    r = await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "rf"})
    rf = next(t["id"] for t in r.json()["group"]["tags"] if t["name"] == "rf")
    g2 = await group(api, "Other")
    other = (await api.post(f"/v1/tags/{g2['id']}/tags", json={"name": "x"})).json()["group"]["tags"][0]["id"]
    pv = (await api.post("/v1/pvs", json={"setpointAddress": "T:1", "tags": [mag, rf, other]})).json()
    assert len(pv["tags"]) == 3

    await api.delete(f"/v1/tags/{g['id']}/tags/{rf}")
    assert {t["id"] for t in (await api.get(f"/v1/pvs/{pv['id']}")).json()["tags"]} == {mag, other}
    r = await api.delete(f"/v1/tags/{g['id']}")
    assert r.json() == {"id": g["id"], "deleted": True, "tagsRemoved": 1, "pvLinksRemoved": 1}
    assert [t["id"] for t in (await api.get(f"/v1/pvs/{pv['id']}")).json()["tags"]] == [other]


async def test_group_names_unique_case_insensitive(api: Api) -> None:
    a = await group(api, "Area")
    problem(await api.post("/v1/tags", json={"name": "  AREA "}), 409, "'Area' already exists")
    b = await group(api, "Beam")
    problem(await api.put(f"/v1/tags/{b['id']}", json={"name": "area"}), 409, "already exists")
    r = await api.put(f"/v1/tags/{a['id']}", json={"name": "AREA"})  # renaming itself is fine
    assert r.status_code == 200 and r.json()["name"] == "AREA"
    # The same tag name in two groups is fine.
    for g in (a, b):
        assert (await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "common"})).status_code == 201
    t = (await api.post(f"/v1/tags/{a['id']}/tags", json={"name": "other"})).json()["group"]["tags"]
    other = next(x for x in t if x["name"] == "other")
    problem(await api.put(f"/v1/tags/{a['id']}/tags/{other['id']}", json={"name": "COMMON"}), 409, "common")


async def test_bulk(api: Api) -> None:
    existing = await group(api, "area")
    await api.post(f"/v1/tags/{existing['id']}/tags", json={"name": "LI22"})
    r = await api.post(
        "/v1/tags/bulk", json={"groups": {"Area": ["li22", "LI23", "LI23"], "Kind": ["mag", "rf"]}}, scope="write"
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["groupsCreated"] == 1 and body["tagsCreated"] == 3 and body["tagsSkipped"] == 1
    assert body["warnings"]
    counts = {g["name"]: g["tagCount"] for g in (await api.get("/v1/tags")).json()}
    assert counts == {"area": 2, "Kind": 2}
    again = (await api.post("/v1/tags/bulk", json={"groups": {"Kind": ["MAG"]}})).json()
    assert again["groupsCreated"] == 0 and again["tagsCreated"] == 0 and again["tagsSkipped"] == 1


@pytest.mark.parametrize(
    ("route", "body", "needle"),
    [
        ("/v1/tags", {"name": "   "}, "name must not be empty"),
        ("/v1/tags", {"name": ""}, "name must not be empty"),
        ("/v1/tags", {"name": "x" * 256}, "at most 255"),
        ("/v1/tags", {}, "name"),
        ("/v1/tags", {"name": 3}, "name"),
        ("/v1/tags", {"name": "a", "extra": True}, "extra"),
        ("/v1/tags", {"name": "a\u0000"}, "NUL"),
        ("/v1/tags", {"name": "a", "description": "d" * 10_001}, "description"),
        ("/v1/tags/bulk", {"groups": {" ": ["a"]}}, "group name"),
        ("/v1/tags/bulk", {"groups": {"g": ["  "]}}, "tag name"),
        ("/v1/tags/bulk", {"groups": ["g"]}, "groups"),
        ("/v1/tags/bulk", {}, "groups"),
    ],
)
async def test_bad_bodies(api: Api, route: str, body: Any, needle: str) -> None:
    problem(await api.post(route, json=body), 400, needle)
    assert (await api.get("/v1/tags")).json() == []


async def test_bad_tag_bodies_and_ids(api: Api) -> None:
    g = await group(api, "G")
    t = (await api.post(f"/v1/tags/{g['id']}/tags", json={"name": "t"})).json()["group"]["tags"][0]
    problem(await api.post(f"/v1/tags/{g['id']}/tags", json={"name": " "}), 400, "name")
    problem(await api.post(f"/v1/tags/{g['id']}/tags", json={"nom": "x"}), 400)
    problem(await api.post(f"/v1/tags/{g['id']}/tags?skip_duplicates=perhaps", json={"name": "x"}), 400, "skip")
    problem(await api.put(f"/v1/tags/{g['id']}", json={"name": ""}), 400, "name")
    problem(await api.put(f"/v1/tags/{g['id']}/tags/{t['id']}", json={"name": "\n"}), 400, "name")
    problem(await api.put(f"/v1/tags/{g['id']}", content=b"{", headers={"content-type": "application/json"}), 400)
    other = await group(api, "Other")
    # A tag addressed through the wrong group is not found.
    problem(await api.put(f"/v1/tags/{other['id']}/tags/{t['id']}", json={"name": "y"}), 404)
    problem(await api.delete(f"/v1/tags/{other['id']}/tags/{t['id']}"), 404)
    for bad in ("nope", "123", str(uuid.uuid4())):
        problem(await api.get(f"/v1/tags/{bad}"), 404)
        problem(await api.put(f"/v1/tags/{bad}", json={"name": "z"}), 404)
        problem(await api.delete(f"/v1/tags/{bad}"), 404)
        problem(await api.post(f"/v1/tags/{bad}/tags", json={"name": "z"}), 404)
        problem(await api.put(f"/v1/tags/{g['id']}/tags/{bad}", json={"name": "z"}), 404)
        problem(await api.delete(f"/v1/tags/{g['id']}/tags/{bad}"), 404)
