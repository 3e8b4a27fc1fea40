"""squirrel.api.methods: HEAD on GET routes, OPTIONS with Allow, Allow on every 405 (on a small real app)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar, Response, delete, get, post
from litestar.config.cors import CORSConfig
from litestar.params import FromPath

from squirrel.api.methods import allow_header, http_methods, route_methods


@get("/things")
async def list_things() -> dict[str, list[int]]:
    return {"things": [1, 2, 3]}


@post("/things")
async def add_thing() -> dict[str, int]:
    return {"id": 4}


@get("/things/{thing_id:int}")
async def one_thing(thing_id: FromPath[int]) -> dict[str, int]:
    return {"id": thing_id}


@delete("/things/{thing_id:int}")
async def drop_thing(thing_id: FromPath[int]) -> None:
    return None


@post("/only-post")
async def only_post() -> None:
    return None


@get("/refuses")
async def refuses() -> Response[None]:
    # A 405 a handler (or an exception handler) sends without the header.
    return Response(None, status_code=405)


def _methods(allow: str) -> set[str]:
    return {m.strip() for m in allow.split(",")}


def _app(cors: CORSConfig | None = None) -> Litestar:
    app = Litestar([list_things, add_thing, one_thing, drop_thing, only_post, refuses], cors_config=cors)
    app.asgi_handler = http_methods(app, app.asgi_handler)  # as squirrel.app wires it
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def test_allow_header_adds_options_always_and_head_with_get() -> None:
    assert allow_header({"GET", "POST"}) == "GET, HEAD, OPTIONS, POST"
    assert allow_header({"POST"}) == "OPTIONS, POST"
    assert allow_header(set()) == "OPTIONS"
    assert allow_header({"GET", "HEAD"}) == "GET, HEAD, OPTIONS"


def test_route_methods_names_what_the_router_takes() -> None:
    app = _app()
    # Litestar answers OPTIONS on every path itself, so the router names it too.
    assert route_methods(app, "/things") == {"GET", "POST", "OPTIONS"}
    assert route_methods(app, "/things/7") == {"GET", "DELETE", "OPTIONS"}
    assert route_methods(app, "/only-post") == {"POST", "OPTIONS"}
    assert route_methods(app, "/things/") == {"GET", "POST", "OPTIONS"}  # normalised like the router does


def test_route_methods_is_none_for_unknown_paths() -> None:
    app = _app()
    assert route_methods(app, "/nothing-here") is None
    assert route_methods(app, "/things/1/deeper") is None


async def test_head_answers_the_get_without_its_body(client: httpx.AsyncClient) -> None:
    got = await client.get("/things")
    head = await client.head("/things")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == got.headers["content-type"]


async def test_head_on_a_route_without_get_is_405_with_allow(client: httpx.AsyncClient) -> None:
    r = await client.head("/only-post")
    assert r.status_code == 405
    assert _methods(r.headers["allow"]) == {"OPTIONS", "POST"}


async def test_options_answers_204_with_allow(client: httpx.AsyncClient) -> None:
    r = await client.options("/things")
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    r = await client.options("/things/3")
    assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"


async def test_options_on_an_unknown_path_is_the_usual_404(client: httpx.AsyncClient) -> None:
    r = await client.options("/nothing-here")
    assert r.status_code == 404
    assert "allow" not in r.headers


async def test_a_405_names_the_allowed_methods(client: httpx.AsyncClient) -> None:
    # The router's own 405 already carries Allow: it is kept as it is.
    r = await client.put("/things")
    assert r.status_code == 405
    assert _methods(r.headers["allow"]) == {"GET", "OPTIONS", "POST"}
    r = await client.patch("/things/1")
    assert r.status_code == 405
    assert _methods(r.headers["allow"]) == {"DELETE", "GET", "OPTIONS"}


async def test_a_405_without_allow_gets_one(client: httpx.AsyncClient) -> None:
    r = await client.get("/refuses")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert r.headers.get_list("allow") == ["GET, HEAD, OPTIONS"]


async def test_other_methods_and_statuses_pass_through(client: httpx.AsyncClient) -> None:
    r = await client.post("/things")
    assert r.status_code == 201
    assert r.json() == {"id": 4}
    assert "allow" not in r.headers
    assert (await client.get("/things/9")).json() == {"id": 9}
    assert (await client.get("/nothing-here")).status_code == 404


async def test_cors_preflight_goes_to_the_cors_middleware() -> None:
    app = _app(CORSConfig(allow_origins=["http://console.example"], allow_methods=["GET", "POST"]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        preflight = await c.options(
            "/things", headers={"origin": "http://console.example", "access-control-request-method": "POST"}
        )
        plain = await c.options("/things")
    assert preflight.headers.get("access-control-allow-origin") == "http://console.example"
    assert plain.status_code == 204
    assert plain.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "access-control-allow-origin" not in plain.headers
