"""squirrel.client._calls: building requests and reading answers (no I/O)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
import pytest

from squirrel.client._calls import (
    AsyncSender,
    Call,
    SyncSender,
    as_any,
    as_json,
    as_text,
    file_call,
    json_call,
    json_or_none,
    operation,
    query,
    seg,
)
from squirrel.client._errors import ConflictError, NotFoundError, ServerError


class Point(msgspec.Struct):
    x: int
    y: int


def test_a_2xx_answer_is_decoded() -> None:
    call = Call("GET", "/p", as_json(Point))
    assert call.answer(200, b'{"x": 1, "y": 2}') == Point(1, 2)
    assert Call("GET", "/t", as_text).answer(200, "é".encode()) == "é"
    assert Call("GET", "/a", as_any).answer(204, b"[1]") == [1]


def test_an_error_answer_raises_the_matching_error() -> None:
    call = Call("GET", "/p", as_json(Point))
    with pytest.raises(NotFoundError) as caught:
        call.answer(404, b'{"type": "https://squirrel.dev/problems/not-found", "title": "Not found", "detail": "no p"}')
    assert (caught.value.status, caught.value.detail) == (404, "no p")
    with pytest.raises(ConflictError) as conflict:
        call.answer(409, b'{"detail": "running", "jobId": "j1"}')
    assert conflict.value.extra == {"jobId": "j1"}
    with pytest.raises(ServerError) as server:
        call.answer(502, b"<html>bad gateway</html>")
    assert server.value.detail == "<html>bad gateway</html>"


def test_a_wrong_answer_shape_is_a_validation_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        Call("GET", "/p", as_json(Point)).answer(200, b'{"x": "one", "y": 2}')


@pytest.mark.parametrize(
    ("body", "decoded"), [(b'{"a": 1}', {"a": 1}), (b"", None), (b"not json", None), (b"[" * 100_000, None)]
)
def test_json_or_none(body: bytes, decoded: Any) -> None:
    assert json_or_none(body) == decoded


def test_seg_escapes_a_whole_path_segment() -> None:
    assert seg("a/b c?d") == "a%2Fb%20c%3Fd"
    assert seg(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"


def test_query_encodes_like_the_server_parses() -> None:
    assert query(a=True, b=False, c=None, d=[1, "x"], e=(True,), f=0, g="") == (
        ("a", "true"), ("b", "false"), ("d", "1"), ("d", "x"), ("e", "true"), ("f", "0"), ("g", ""),
    )  # fmt: skip
    assert query() == ()
    assert query(tags=[]) == ()


def test_json_and_file_calls_carry_their_body_and_type() -> None:
    call = json_call("POST", "/p", as_json(Point), Point(1, 2), (("async", "true"),))
    assert (call.content, call.content_type) == (b'{"x":1,"y":2}', "application/json")
    assert call.params == (("async", "true"),)
    assert json_call("PUT", "/p", as_any, {"a": None}).params == ()
    text = file_call("/imp", as_any, "é,1\n", "text/csv")
    assert (text.method, text.content, text.content_type) == ("POST", "é,1\n".encode(), "text/csv")
    assert file_call("/imp", as_any, b"\x00\x01", "application/octet-stream", (("t", "x"),)).content == b"\x00\x01"


class _Routes:
    @operation
    def point(self, x: int, y: int = 0) -> Call[Point]:
        """Get a point."""
        return Call("GET", f"/points/{x}", as_json(Point), query(y=y))


class _Sync(SyncSender, _Routes):
    def __init__(self) -> None:
        self.sent: list[Call[Any]] = []

    def _send(self, call: Call[Any]) -> Any:
        self.sent.append(call)
        return call.answer(200, b'{"x": 3, "y": 4}')


class _Async(AsyncSender, _Routes):
    async def _send(self, call: Call[Any]) -> Any:
        return ("async", call.path)


def test_an_operation_sends_its_call_through_the_client() -> None:
    client = _Sync()
    assert client.point(3, y=4) == Point(3, 4)
    assert [(c.method, c.path, c.params) for c in client.sent] == [("GET", "/points/3", (("y", "4"),))]
    assert client.point.__doc__ == "Get a point."
    assert client.point.__name__ == "point"


def test_an_operation_on_the_async_client_is_awaitable() -> None:
    assert asyncio.run(_Async().point(7)) == ("async", "/points/7")


def test_an_operation_read_from_the_class_is_the_descriptor() -> None:
    described = _Routes.point
    assert isinstance(described, operation)
    assert described.build(None, 1).path == "/points/1"


def test_the_marker_bases_do_no_io() -> None:
    with pytest.raises(NotImplementedError):
        SyncSender()._send(Call("GET", "/", as_any))
    with pytest.raises(NotImplementedError):
        asyncio.run(AsyncSender()._send(Call("GET", "/", as_any)))
