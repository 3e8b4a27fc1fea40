"""The API docs work offline: Swagger UI (at /schema and /schema/swagger) and ReDoc load only assets this
server serves from installed packages, and the OpenAPI document declares the X-API-Key scheme with each
operation's requirement and scope (the same scope the guard asks for)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from squirrel.api.auth import required_scope
from squirrel.api.docs import SECURITY_SCHEME
from tests.conftest import Api

_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger", "/schema/redoc"])
async def test_doc_pages_load_only_local_assets(api: Api, page: str) -> None:
    r = await api.get(page, scope=None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assets = _ASSET.findall(r.text)
    assert assets, r.text[:500]
    # No URL to a CDN or web fonts. (A bare "cdn" substring is no test: the page embeds the OpenAPI
    # document, whose generated examples are random text.)
    assert not re.search(r"(https?:)?//[^\s\"'<>]*(cdn|fonts\.googleapis)", r.text, re.IGNORECASE), r.text[:500]
    for url in assets:
        assert url.startswith("/schema/static/"), url
        got = await api.get(url, scope=None)  # public, like all of /schema
        assert got.status_code == 200 and len(got.content) > 100, url


async def test_swagger_is_the_default_and_scalar_is_gone(api: Api) -> None:
    root = (await api.get("/schema", scope=None)).text
    assert "SwaggerUIBundle" in root and "/schema/static/swagger-ui/swagger-ui-bundle.js" in root
    assert (await api.get("/schema/scalar", scope=None)).status_code == 404


async def test_openapi_declares_the_api_key_scheme(api: Api) -> None:
    doc = (await api.get("/schema/openapi.json", scope=None)).json()
    assert doc["components"]["securitySchemes"][SECURITY_SCHEME] == {
        "type": "apiKey",
        "name": "X-API-Key",
        "in": "header",
        "description": doc["components"]["securitySchemes"][SECURITY_SCHEME]["description"],
    }
    paths = doc["paths"]
    keys = paths["/v1/api-keys"]["get"]
    assert keys["security"] == [{SECURITY_SCHEME: []}] and "**Scope:** `admin`" in keys["description"]
    assert "**Scope:** `write`" in paths["/v1/pvs"]["post"]["description"]
    assert "**Scope:** `read`" in paths["/v1/pvs"]["get"]["description"]
    restore = paths["/v1/snapshots/{snapshot_id}/restore"]["post"]["description"]
    assert "**Scope:** `restore` (`read` when `dryRun=true`)" in restore
    beat = paths["/v1/health/heartbeat"]["get"]
    assert "security" not in beat and "Scope:" not in (beat.get("description") or "")
    assert not any(p.startswith("/schema") for p in paths)  # the UI assets are not API operations


class _Probe:
    """What required_scope reads from a request: method, type and (empty) query."""

    def __init__(self, method: str) -> None:
        self.scope: dict[str, Any] = {"type": "http", "method": method}
        self.query_params: dict[str, str] = {}


async def test_documented_scope_is_the_guards_scope(api: Api) -> None:
    doc = (await api.get("/schema/openapi.json", scope=None)).json()
    app = api.client.app
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                operation = doc["paths"][route.path_format][method.lower()]
                scope = required_scope(_Probe(method), handler)  # type: ignore[arg-type]
                if scope == "public":
                    assert "security" not in operation, (method, route.path)
                else:
                    assert operation["security"] == [{SECURITY_SCHEME: []}], (method, route.path)
                    assert f"**Scope:** `{scope}`" in operation["description"], (method, route.path)
                checked += 1
    assert checked > 40
