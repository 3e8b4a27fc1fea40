"""squirrel.api.docs: the security scheme and scopes in the document, the doc pages from local assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, get, post

from squirrel.api.docs import (
    REDOC_ASSETS,
    SCHEMA_PATH,
    SECURITY_SCHEME,
    SWAGGER_ASSETS,
    asset_routers,
    document_security,
    openapi_config,
)


@get("/v1/things", description="List the things.", sync_to_thread=False)
def things() -> list[int]:
    return []


@post("/v1/things/restore", opt={"scope": "restore", "read_scope_query": "dryRun"}, sync_to_thread=False)
def restore() -> None:
    return None


@get("/v1/things/events", opt={"query_key": True}, sync_to_thread=False)
def events() -> list[int]:
    return []


@get("/healthz", opt={"scope": "public"}, sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/hidden", include_in_schema=False, sync_to_thread=False)
def hidden() -> None:
    return None


def _app() -> Litestar:
    app = Litestar(
        [things, restore, events, health, hidden, *asset_routers()],
        openapi_config=openapi_config("Test", "1.2.3", "A test service."),
    )
    document_security(app)
    return app


@pytest.fixture(scope="module")
def app() -> Litestar:
    return _app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


def _operation(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method]
    return operation


def test_protected_operations_need_the_key_and_name_their_scope(app: Litestar) -> None:
    doc = app.openapi_schema.to_schema()
    listing = _operation(doc, "/v1/things", "get")
    assert listing["security"] == [{SECURITY_SCHEME: []}]
    assert listing["description"] == "List the things.\n\n**Scope:** `read`."
    assert _operation(doc, "/v1/things/restore", "post")["description"] == (
        "**Scope:** `restore` (`read` when `dryRun=true`)."
    )
    assert _operation(doc, "/v1/things/events", "get")["description"] == (
        "**Scope:** `read`; browsers may pass the key as `?api_key=`."
    )


def test_public_and_hidden_operations_are_left_alone(app: Litestar) -> None:
    doc = app.openapi_schema.to_schema()
    health_op = _operation(doc, "/healthz", "get")
    assert "security" not in health_op
    assert "Scope" not in health_op.get("description", "")
    assert "/hidden" not in doc["paths"]


def test_documenting_twice_does_not_repeat_the_scope() -> None:
    app = _app()
    document_security(app)
    doc = app.openapi_schema.to_schema()
    assert _operation(doc, "/v1/things", "get")["description"] == "List the things.\n\n**Scope:** `read`."


def test_the_api_key_scheme_is_a_component(app: Litestar) -> None:
    scheme = app.openapi_schema.to_schema()["components"]["securitySchemes"][SECURITY_SCHEME]
    assert (scheme["type"], scheme["name"], scheme["in"]) == ("apiKey", "X-API-Key", "header")


async def test_the_served_document_is_completed(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{SCHEMA_PATH}/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert (doc["info"]["title"], doc["info"]["version"]) == ("Test", "1.2.3")
    assert "Problem" in doc["components"]["schemas"]
    assert "401" in doc["paths"]["/v1/things"]["get"]["responses"]


@pytest.mark.parametrize("page", [SCHEMA_PATH, f"{SCHEMA_PATH}/swagger", f"{SCHEMA_PATH}/redoc"])
async def test_doc_pages_use_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    assert "Problem" in r.text  # the page embeds the completed document
    assert "https://" not in r.text.replace("https://squirrel.dev/problems", "")
    assert SWAGGER_ASSETS in r.text or REDOC_ASSETS in r.text


@pytest.mark.parametrize(
    "asset",
    [
        f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        f"{SWAGGER_ASSETS}/swagger-ui.css",
        f"{REDOC_ASSETS}/redoc.standalone.js",
    ],
)
async def test_assets_come_from_the_installed_packages(client: httpx.AsyncClient, asset: str) -> None:
    r = await client.get(asset)
    assert r.status_code == 200
    assert len(r.content) > 1000


def test_asset_routes_are_public(app: Litestar) -> None:
    assert [router.path for router in asset_routers()] == [SWAGGER_ASSETS, REDOC_ASSETS]
    assets = [route for route in app.routes if route.path.startswith((SWAGGER_ASSETS, REDOC_ASSETS))]
    assert len(assets) >= 2
    for route in assets:
        for handler in route.route_handlers:  # type: ignore[union-attr]
            assert handler.opt["scope"] == "public"  # the router's opt reaches its handlers
