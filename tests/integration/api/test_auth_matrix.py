"""The auth matrix over every route the app serves: no key → 401, a key without the scope → 403,
a key with it → never 401/403 and never 500 (even with made-up ids and empty bodies)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from squirrel.app import create_app
from squirrel.model import expand_scopes
from tests.conftest import Api, make_settings

SCOPES = ("read", "write", "restore", "admin")
# Infinite streams cannot be driven by the in-process test client; their auth is tested over uvicorn.
STREAMING = re.compile(r"/events$")
FAKE_ID = "00000000-0000-4000-8000-000000000000"


def _routes() -> list[tuple[str, str, str]]:
    app: Litestar = create_app(make_settings("postgresql://unused/unused"))
    out = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema") or STREAMING.search(route.path):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                scope = handler.opt.get("scope") or ("read" if method == "GET" else "write")
                out.append((method, route.path, str(scope)))
    return sorted(set(out))


ROUTES = _routes()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", FAKE_ID, path)


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_route_auth_matrix(api: Api, method: str, path: str, scope: str) -> None:
    url = _url(path)
    kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT") else {}
    anonymous = await api.request(method, url, scope=None, **kwargs)
    if scope == "public":
        assert anonymous.status_code < 500, anonymous.text
        return
    assert anonymous.status_code == 401, f"{method} {path} without a key: {anonymous.status_code}"
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    for key_scope in SCOPES:
        r = await api.request(method, url, scope=key_scope, **kwargs)
        allowed = scope in expand_scopes({key_scope})
        if allowed:
            assert r.status_code not in (401, 403), f"{method} {path} with {key_scope}: {r.status_code} {r.text}"
            assert r.status_code < 500, f"{method} {path} with {key_scope}: {r.status_code} {r.text}"
        else:
            assert r.status_code == 403, f"{method} {path} with {key_scope}: {r.status_code} {r.text}"
