"""squirrel.api.middleware: the request log (path only, real status) and the /v1 envelope (on a small real app)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import structlog
from litestar import Litestar, MediaType, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Stream

from squirrel.api.middleware import envelope_middleware, request_log_middleware


@get("/v1/things")
async def things() -> dict[str, Any]:
    return {"things": [1, 2]}


@get("/v1/missing")
async def missing() -> None:
    raise NotFoundException("no thing 7")


@get("/v1/broken")
async def broken() -> Response[bytes]:
    return Response(b"[1, 2]", status_code=500, media_type=MediaType.JSON)


@post("/v1/empty", status_code=204)
async def empty() -> None:
    return None


@get("/v1/blank")
async def blank() -> Response[bytes]:
    return Response(b"", media_type=MediaType.JSON)


@get("/v1/text", media_type=MediaType.TEXT)
async def text() -> str:
    return "a,b\n1,2\n"


@get("/v1/jobs/{job_id:str}")
async def job(job_id: FromPath[str]) -> dict[str, Any]:
    return {"id": job_id, "status": "cancelled", "error": None}


@get("/v1/snapshots/{snapshot_id:str}")
async def snapshot(snapshot_id: FromPath[str]) -> dict[str, Any]:
    return {"values": [{"pv": "X", "status": "HIHI", "severity": "MAJOR", "alarmMessage": None}]}


@get("/v1/chunked")
async def chunked() -> Stream:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b'{"a":', b" 1}"):
            yield part

    return Stream(parts(), media_type=MediaType.JSON)


@get("/plain")
async def plain() -> dict[str, int]:
    return {"x": 1}


def _app() -> Litestar:
    app = Litestar([things, missing, broken, empty, blank, text, job, snapshot, chunked, plain])
    app.asgi_handler = envelope_middleware(app.asgi_handler)  # as squirrel.app wires it with api_envelope
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as c:
        yield c


async def test_a_success_is_wrapped_with_error_code_0(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/things")
    assert r.status_code == 200
    assert r.json() == {"errorCode": 0, "errorMessage": None, "payload": {"things": [1, 2]}}
    assert r.headers["content-type"] == "application/json"
    assert r.headers["content-length"] == str(len(r.content))


async def test_an_error_keeps_its_status_and_carries_the_detail(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/missing")
    assert r.status_code == 404
    assert r.json() == {"errorCode": 404, "errorMessage": "no thing 7", "payload": None}
    assert r.headers["content-type"] == "application/json"


async def test_an_error_without_detail_carries_the_body_as_text(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/broken")
    assert r.status_code == 500
    assert r.json() == {"errorCode": 500, "errorMessage": "[1, 2]", "payload": None}


async def test_an_empty_json_body_is_a_null_payload(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/blank")
    assert r.json() == {"errorCode": 0, "errorMessage": None, "payload": None}


async def test_a_204_has_no_content_type_and_passes_through(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/empty")
    assert r.status_code == 204
    assert r.content == b""


async def test_a_body_in_several_chunks_is_wrapped_once(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/chunked")
    assert r.json() == {"errorCode": 0, "errorMessage": None, "payload": {"a": 1}}


async def test_non_json_and_non_v1_pass_through(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/text")
    assert r.text == "a,b\n1,2\n"
    assert r.headers["content-type"].startswith("text/plain")
    assert (await client.get("/plain")).json() == {"x": 1}


async def test_payloads_are_in_the_gui_dialect(client: httpx.AsyncClient) -> None:
    job_payload = (await client.get("/v1/jobs/j1")).json()["payload"]
    assert job_payload == {"id": "j1", "status": "failed", "error": "cancelled"}
    value = (await client.get("/v1/snapshots/s1")).json()["payload"]["values"][0]
    assert value == {"pv": "X", "status": 3, "severity": 2}


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """The log entries at info level (the test session logs at warning), restoring the configuration after."""
    saved = structlog.get_config()
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[capture], wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        yield capture.entries
    finally:
        structlog.configure(**saved)


async def _call(app: Any, path: str, query: bytes = b"") -> None:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)


async def test_the_request_log_has_method_path_and_status_but_no_query(logs: list[MutableMapping[str, Any]]) -> None:
    async def teapot(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await _call(request_log_middleware(teapot), "/v1/pvs", b"api_key=sq_secret")
    assert len(logs) == 1
    entry = logs[0]
    assert (entry["event"], entry["method"], entry["path"], entry["status"]) == ("request", "GET", "/v1/pvs", 418)
    assert isinstance(entry["ms"], float)
    assert "sq_secret" not in repr(entry)


async def test_a_request_that_fails_is_logged_as_500(logs: list[MutableMapping[str, Any]]) -> None:
    async def fails(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await _call(request_log_middleware(fails), "/v1/x")
    assert [(e["path"], e["status"]) for e in logs] == [("/v1/x", 500)]


async def test_other_scopes_pass_through_unlogged(logs: list[MutableMapping[str, Any]]) -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await request_log_middleware(inner)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    await envelope_middleware(inner)({"type": "websocket", "path": "/v1/ws"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan", "websocket"]
    assert logs == []
