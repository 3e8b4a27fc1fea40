"""A request means exactly what it says (issue: operator trust §1, §2): unknown, repeated or malformed
parameters are refused, never ignored, and no input reaches a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.problems import problem

JSON = {"content-type": "application/json"}
BIG = "9223372036854775808"


async def make_snapshot(api: Api) -> str:
    r = await api.post("/v1/pvs/multi", json=[{"setpointAddress": f"STRICT:{i}"} for i in range(3)], scope="write")
    assert r.status_code == 201, r.text
    r = await api.post("/v1/snapshots?async=false", json={"title": "strict"}, scope="write")
    assert r.status_code == 201, r.text
    sid: str = r.json()["id"]
    return sid


async def job_count(api: Api) -> int:
    return len((await api.get("/v1/jobs?limit=1000")).json())


# --- §1 a request means exactly what it says ------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["dryRun=true&dryRun=false", "dryRun=false&dryRun=true", "dryRun=yes&dryRun=0", "dryRun=true&dryRun=true"],
)
async def test_repeated_dry_run_is_refused_and_runs_nothing(api: Api, query: str) -> None:
    sid = await make_snapshot(api)
    before = await job_count(api)
    r = await api.post(f"/v1/snapshots/{sid}/restore?{query}", scope="read", json={})
    assert r.status_code == 400, r.text
    assert "more than once" in r.json()["detail"] or "true or false" in r.json()["detail"]
    assert await job_count(api) == before


@pytest.mark.parametrize("value", ["yes", "0", "1", "TRUE", "on", ""])
async def test_booleans_are_true_or_false_only(api: Api, value: str) -> None:
    sid = await make_snapshot(api)
    r = await api.post(f"/v1/snapshots/{sid}/restore?dryRun={value}", scope="read", json={})
    problem(r, 400, "dryRun", "true or false")


async def test_read_key_gets_the_plan_and_not_a_restore(api: Api) -> None:
    sid = await make_snapshot(api)
    r = await api.post(f"/v1/snapshots/{sid}/restore?dryRun=true", scope="read", json={})
    assert r.status_code == 200, r.text
    assert "items" in r.json()
    problem(await api.post(f"/v1/snapshots/{sid}/restore?dryRun=false", scope="read", json={}), 403, "restore")


@pytest.mark.parametrize(
    ("url", "bad", "hint"),
    [
        ("/v1/snapshots/{sid}/restore", "dry_run=true", "dryRun"),
        ("/v1/snapshots/{sid}/restore", "dryrun=true", "dryRun"),
        ("/v1/snapshots", "useCache=false", "use_cache"),
        ("/v1/snapshots", "Async=false", "async"),
    ],
)
async def test_typo_is_refused_with_a_hint(api: Api, url: str, bad: str, hint: str) -> None:
    sid = await make_snapshot(api)
    before = await job_count(api)
    r = await api.post(url.format(sid=sid) + "?" + bad, scope="admin", json={"title": "t"})
    body = problem(r, 400, "unknown query parameter", f"did you mean '{hint}'")
    assert bad.split("=")[0] in body["detail"]
    assert await job_count(api) == before


async def test_unknown_parameter_on_a_get_route_and_the_accepted_forms(api: Api) -> None:
    problem(await api.get("/v1/pvs?pvname=A"), 400, "'pvname'", "did you mean 'pvName'")
    problem(await api.get("/v1/audit?bogus=1"), 400, "'bogus'")
    problem(await api.get("/v1/pvs/devices?x=1"), 400, "takes no query parameters")
    # The released GUI sends empty filters; the old dialect's snake_case names stay accepted.
    assert (await api.get("/v1/pvs?pvName=")).status_code == 200
    assert (await api.get("/v1/pvs/search?q=&include_live_values=false")).status_code == 200
    # Multi-valued parameters repeat; single-valued ones do not.
    assert (await api.get("/v1/snapshots?labels=a&labels=b")).status_code == 200
    problem(await api.get("/v1/snapshots?title=a&title=b"), 400, "'title'", "more than once")


async def test_json_routes_need_json(api: Api) -> None:
    r = await api.post("/v1/pvs", content=b'{"setpointAddress": "CT:A"}', headers={"content-type": "text/plain"})
    problem(r, 415, "application/json")
    r = await api.post("/v1/pvs", content=b'{"setpointAddress": "CT:A"}', headers={"content-type": ""})
    problem(r, 415, "application/json")
    assert (await api.get("/v1/pvs/paged?pageSize=1")).json()["totalCount"] == 0
    ok = await api.post("/v1/pvs", content=b'{"setpointAddress": "CT:A"}', headers={"content-type": "application/json"})
    assert ok.status_code == 201, ok.text


# --- §2 no input gives a 500 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/v1/pvs?pvName=a%00b", "pvName"),
        ("/v1/pvs/search?q=%00", "q"),
        ("/v1/pvs/search?devices=a%00", "devices"),
        ("/v1/snapshots?title=%00", "title"),
        ("/v1/snapshots?labels=x%00", "labels"),
        ("/v1/audit?actor=%00", "actor"),
        ("/v1/pvs/paged?continuationToken=%00", "continuationToken"),
    ],
)
async def test_nul_in_a_query_is_a_400_naming_it(api: Api, url: str, name: str) -> None:
    problem(await api.get(url), 400, f"'{name}'", "NUL")


@pytest.mark.parametrize(
    ("url", "body", "where"),
    [
        ("/v1/snapshots?async=false", {"title": "a\u0000b"}, "$.title"),
        ("/v1/snapshots?async=false", {"title": "t", "labels": ["x\u0000"]}, "$.labels[0]"),
        ("/v1/api-keys", {"appName": "k\u0000", "scopes": ["read"]}, "$.appName"),
        ("/v1/schedules", {"name": "n\u0000", "cron": "* * * * *", "title": "t"}, "$.name"),
        ("/v1/tags", {"name": "g\u0000"}, "$.name"),
        ("/v1/pvs/multi", [{"setpointAddress": "ok"}, {"setpointAddress": "bad\u0000"}], "$[1].setpointAddress"),
    ],
)
async def test_nul_in_a_body_is_a_400_naming_the_field(api: Api, url: str, body: Any, where: str) -> None:
    problem(await api.post(url, json=body), 400, where, "NUL")


async def test_nul_in_a_csv_body_is_refused(api: Api) -> None:
    csv = b"Setpoint,Readback,Device,Description\nA\x00,B,D,x\n"
    problem(await api.post("/v1/pvs/import", content=csv, headers={"content-type": "text/csv"}), 400, "NUL")


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/snapshots?offset={BIG}",
        f"/v1/pvs/search?offset={BIG}",
        f"/v1/audit?offset={BIG}",
        "/v1/audit?offset=2147483648",
        "/v1/snapshots?offset=-1",
        f"/v1/snapshots?limit={BIG}",
        "/v1/jobs?limit=0",
        "/v1/pvs/paged?pageSize=1001",
    ],
)
async def test_integers_are_bounded(api: Api, url: str) -> None:
    name = url.split("?")[1].split("=")[0]
    problem(await api.get(url), 400, name)


async def test_largest_offset_is_accepted(api: Api) -> None:
    assert (await api.get("/v1/snapshots?offset=2147483647")).json() == []


@pytest.mark.parametrize("order", [4294967297, 2147483648, -2147483649, 2**63])
async def test_restore_order_is_int32_and_never_wraps(api: Api, order: int) -> None:
    problem(await api.post("/v1/pvs", json={"setpointAddress": "RO:A", "restoreOrder": order}), 400, "restoreOrder")
    assert (await api.get("/v1/pvs/paged?pageSize=1")).json()["totalCount"] == 0
    created = await api.post("/v1/pvs", json={"setpointAddress": "RO:B", "restoreOrder": 2147483647})
    assert created.status_code == 201 and created.json()["restoreOrder"] == 2147483647
    pid = created.json()["id"]
    problem(await api.put(f"/v1/pvs/{pid}", json={"restoreOrder": order}), 400, "restoreOrder")
    assert (await api.get(f"/v1/pvs/{pid}")).json()["restoreOrder"] == 2147483647


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


@pytest.mark.parametrize(
    "url",
    [
        "/v1/pvs",
        "/v1/pvs/multi",
        "/v1/pvs/live",
        "/v1/snapshots",
        "/v1/snapshots/import",
        "/v1/schedules",
        "/v1/tags",
        "/v1/tags/bulk",
        "/v1/api-keys",
    ],
)
async def test_deeply_nested_json_is_a_400(api: Api, url: str) -> None:
    for n in (65, 1000, 100_000):
        r = await api.post(url, content=deep(n), headers=JSON)
        assert r.status_code == 400, (n, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    nested = json.dumps({"title": "t", "labels": json.loads(deep(70))}).encode()
    assert (await api.post("/v1/snapshots", content=nested, headers=JSON)).status_code == 400


@pytest.mark.parametrize("zone", ["America", "Europe/", "A" * 300, "../../etc/passwd", "UTC\u00e9"])
async def test_bad_time_zones_are_a_400(api: Api, zone: str) -> None:
    body = {"name": "s", "cron": "0 * * * *", "timezone": zone, "title": "t"}
    problem(await api.post("/v1/schedules", json=body), 400, "timezone")


async def test_title_filter_is_literal(api: Api) -> None:
    for title in ("plain", "with_underscore", "50% done"):
        assert (await api.post("/v1/snapshots?async=false", json={"title": title})).status_code == 201
    assert [s["title"] for s in (await api.get("/v1/snapshots?title=_")).json()] == ["with_underscore"]
    assert [s["title"] for s in (await api.get("/v1/snapshots?title=%25")).json()] == ["50% done"]
    assert len((await api.get("/v1/snapshots?title=")).json()) == 3


async def test_validation_detail_never_echoes_the_query_string(api: Api) -> None:
    r = await api.get("/v1/snapshots?limit=abc&title=sq_secret_should_not_echo", scope="read")
    assert r.status_code == 400
    assert "sq_secret" not in r.text
    r = await api.get("/v1/snapshots?limit=abc", scope="read")
    body = problem(r, 400, "limit")
    assert "?" not in body["detail"]
