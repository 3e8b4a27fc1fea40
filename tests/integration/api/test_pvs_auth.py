"""The auth matrix of the registry and tag routes: each route x no key / read / write / restore / admin."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest

from tests.conftest import Api

GID, TID, PID = (str(uuid.uuid4()) for _ in range(3))
_counter = itertools.count()

READS = [
    "/v1/pvs",
    "/v1/pvs/paged",
    "/v1/pvs/search",
    "/v1/pvs/devices",
    "/v1/pvs/export",
    f"/v1/pvs/{PID}",
    "/v1/tags",
    f"/v1/tags/{GID}",
]


def _writes() -> list[tuple[str, str, dict[str, Any]]]:
    n = next(_counter)
    return [
        ("POST", "/v1/pvs", {"json": {"setpointAddress": f"AUTH:{n}:1"}}),
        ("POST", "/v1/pvs/multi", {"json": [{"setpointAddress": f"AUTH:{n}:2"}]}),
        (
            "POST",
            "/v1/pvs/import",
            {"content": f"Setpoint\nAUTH:{n}:3\n".encode(), "headers": {"content-type": "text/csv"}},
        ),
        ("PUT", f"/v1/pvs/{PID}", {"json": {"description": "x"}}),
        ("DELETE", f"/v1/pvs/{PID}", {}),
        ("POST", "/v1/tags", {"json": {"name": f"auth-{n}"}}),
        ("POST", "/v1/tags/bulk", {"json": {"groups": {f"bulk-{n}": ["a"]}}}),
        ("PUT", f"/v1/tags/{GID}", {"json": {"name": "x"}}),
        ("DELETE", f"/v1/tags/{GID}", {}),
        ("POST", f"/v1/tags/{GID}/tags", {"json": {"name": "x"}}),
        ("PUT", f"/v1/tags/{GID}/tags/{TID}", {"json": {"name": "x"}}),
        ("DELETE", f"/v1/tags/{GID}/tags/{TID}", {}),
    ]


async def test_reads(api: Api) -> None:
    for url in READS:
        r = await api.get(url, scope=None)
        assert r.status_code == 401, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        for scope in ("read", "write", "restore", "admin"):
            r = await api.get(url, scope=scope)
            assert r.status_code in (200, 404), (url, scope, r.text)
            assert r.status_code == (404 if PID in url or GID in url else 200)


@pytest.mark.parametrize(
    ("scope", "allowed"), [(None, 401), ("read", 403), ("restore", 403), ("write", True), ("admin", True)]
)
async def test_writes(api: Api, scope: str | None, allowed: int | bool) -> None:
    for method, url, kw in _writes():
        headers = kw.pop("headers", {})
        if scope is not None:
            headers["X-API-Key"] = api.tokens[scope]
        r = await api.client.request(method, url, headers=headers, **kw)
        if allowed is True:
            # Creates succeed; the rest address ids that do not exist.
            assert r.status_code in (201, 404), (method, url, r.text)
        else:
            assert r.status_code == allowed, (method, url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    if allowed is not True:
        assert (await api.get("/v1/pvs")).json() == [] and (await api.get("/v1/tags")).json() == []


async def test_unknown_key_is_401(api: Api) -> None:
    r = await api.client.post("/v1/pvs", json={"setpointAddress": "X"}, headers={"X-API-Key": "sq_unknown_token_x"})
    assert r.status_code == 401


async def test_anonymous_read(database_url: str) -> None:
    from litestar.testing import AsyncTestClient

    from squirrel.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, anonymous="read"))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/v1/pvs")).status_code == 200
        assert (await client.get("/v1/tags")).status_code == 200
        assert (await client.post("/v1/tags", json={"name": "x"})).status_code == 403
