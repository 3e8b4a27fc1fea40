"""Every error leaves the API as the same RFC 9457 problem: one route per SquirrelError class, plus the
framework's own errors (validation, unknown route, wrong method) and an unexpected exception."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.params import FromPath, JSONBody
from litestar.testing import TestClient

from squirrel import errors
from squirrel.api.problems import EXCEPTION_HANDLERS, PROBLEM_JSON
from squirrel.errors import PROBLEM_TYPE_BASE, SquirrelError
from tests.unit.test_errors import EXPECTED, make


@get("/raise/{name:str}", sync_to_thread=False)
def raising(name: FromPath[str]) -> None:
    raise make(getattr(errors, name), f"detail of {name}")


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("secret internals")


@get("/slow", sync_to_thread=False)
def slow() -> None:
    raise TimeoutError


@post("/count", sync_to_thread=False)
def count(data: JSONBody[dict[str, int]]) -> int:
    return len(data)


@pytest.fixture(scope="module")
def client() -> Any:
    app = Litestar([raising, boom, slow, count], exception_handlers=EXCEPTION_HANDLERS, debug=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _problem(r: Any, status: int, slug: str, title: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = r.json()
    assert (body["type"], body["title"], body["status"]) == (f"{PROBLEM_TYPE_BASE}{slug}", title, status)
    return body


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_each_error_class_renders_its_problem(client: Any, cls: type[SquirrelError]) -> None:
    status, slug, title = EXPECTED[cls]
    body = _problem(client.get(f"/raise/{cls.__name__}"), status, slug, title)
    assert body["detail"] == f"detail of {cls.__name__}"


def test_retry_after_header_and_member(client: Any) -> None:
    r = client.get("/raise/TooManyRequestsError")
    assert r.headers["retry-after"] == "7"
    assert r.json()["retryAfter"] == 7


def test_framework_not_found_and_method(client: Any) -> None:
    assert _problem(client.get("/nowhere"), 404, "not-found", "Not Found")["detail"] == "no such resource"
    _problem(client.delete("/boom"), 405, "method-not-allowed", "Method Not Allowed")


def test_framework_validation_is_a_400(client: Any) -> None:
    body = _problem(client.post("/count", json={"a": "x"}), 400, "validation-error", "Bad Request")
    assert body["detail"]


def test_unexpected_exception_is_a_generic_500(client: Any) -> None:
    body = _problem(client.get("/boom"), 500, "internal-error", "Internal Server Error")
    assert body["detail"] == "internal error; see the server log"
    assert "secret" not in body["detail"]


def test_timeout_is_unavailable(client: Any) -> None:
    _problem(client.get("/slow"), 503, "unavailable", "Service Unavailable")
