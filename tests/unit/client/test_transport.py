"""squirrel.client._transport: what the clients send and how they read answers and event streams.

httpx.MockTransport stands in for the server here only to check request building and response parsing;
the clients against the real service are tests/integration/test_client.py.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx
import pytest

from squirrel.client._errors import AuthError, ConnectError, NotFoundError
from squirrel.client._transport import AsyncClient, Client

URL = "http://squirrel.test:8000"
KEY = "sq_unit_test_key_0123456789"
SSE = {"content-type": "text/event-stream"}


def _client(handler: httpx.MockTransport, api_key: str | None = KEY) -> Client:
    return Client(URL, api_key, transport=handler)


def test_a_request_carries_the_key_the_query_and_the_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=["dev1"] if request.method == "GET" else {"A": {"connected": False}})

    with _client(httpx.MockTransport(answer)) as sq:
        assert sq.devices() == ["dev1"]
        assert sq.live_values(["A"]) == {"A": {"connected": False}}
    get, post = seen
    assert (get.method, str(get.url)) == ("GET", f"{URL}/v1/pvs/devices")
    assert get.headers["x-api-key"] == KEY
    assert "content-type" not in get.headers
    assert (post.method, post.headers["content-type"], post.content) == (
        "POST",
        "application/json",
        b'{"pv_names":["A"]}',
    )


def test_no_key_means_no_key_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQUIRREL_API_KEY", raising=False)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    with Client(URL, transport=httpx.MockTransport(answer)) as sq:
        sq.devices()
    assert "x-api-key" not in seen[0].headers


def test_an_error_answer_raises_the_problem() -> None:
    problem = {"type": "https://squirrel.dev/problems/unauthorized", "title": "t", "status": 401, "detail": "no key"}
    with _client(httpx.MockTransport(lambda r: httpx.Response(401, json=problem))) as sq, pytest.raises(AuthError) as e:
        sq.devices()
    assert e.value.detail == "no key"


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (httpx.ConnectError("refused"), f"cannot reach {URL}: ConnectError: refused"),
        (httpx.ConnectTimeout("slow"), f"cannot reach {URL}: ConnectTimeout: slow"),
        (httpx.ReadTimeout("slow"), f"no answer from {URL} in time (ReadTimeout)"),
    ],
)
def test_an_unreachable_server_is_a_connect_error(exc: httpx.HTTPError, text: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    with _client(httpx.MockTransport(fail)) as sq, pytest.raises(ConnectError) as caught:
        sq.devices()
    assert caught.value.detail == text


def test_live_events_decode_each_event() -> None:
    body = b': hello\n\nevent: initial\ndata: {"A": 1}\n\nevent: diff\ndata: {"A": 2}\n\n'
    transport = httpx.MockTransport(lambda r: httpx.Response(200, headers=SSE, content=body))
    with _client(transport) as sq:
        assert list(sq.live_events(pvs=["A"])) == [("initial", {"A": 1}), ("diff", {"A": 2})]


def test_live_events_send_their_selection() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers=SSE, content=b"")

    with _client(httpx.MockTransport(answer)) as sq:
        assert list(sq.live_events(pvs=["A", "B"], tags=[UUID(int=1)], all=False)) == []
    assert seen[0].url.path == "/v1/live/events"
    assert seen[0].url.params.multi_items() == [
        ("pvs", "A"),
        ("pvs", "B"),
        ("tags", str(UUID(int=1))),
        ("all", "false"),
    ]


def test_a_refused_live_stream_is_the_problem_or_a_connect_error() -> None:
    missing = httpx.MockTransport(lambda r: httpx.Response(404, json={"detail": "no such tag", "status": 404}))
    with _client(missing) as sq, pytest.raises(NotFoundError):
        list(sq.live_events(tags=["x"]))
    not_a_stream = httpx.MockTransport(lambda r: httpx.Response(200, json={"a": 1}))
    with _client(not_a_stream) as sq, pytest.raises(ConnectError) as caught:
        list(sq.live_events())
    assert "live event stream" in caught.value.detail and "HTTP 200 application/json" in caught.value.detail
    broken = httpx.MockTransport(lambda r: httpx.Response(503, text="down"))
    with _client(broken) as sq, pytest.raises(ConnectError):
        list(sq.live_events())


def test_the_async_client_sends_and_reads_the_same() -> None:
    seen: list[httpx.Request] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/live/events":
            return httpx.Response(200, headers=SSE, content=b"event: heartbeat\ndata: {}\n\n")
        return httpx.Response(200, json=["d"])

    async def run() -> tuple[list[str], list[tuple[str, object]]]:
        async with AsyncClient(URL, KEY, transport=httpx.MockTransport(answer)) as sq:
            devices = await sq.devices()
            events = [event async for event in sq.live_events()]
        return devices, events

    assert asyncio.run(run()) == (["d"], [("heartbeat", {})])
    assert seen[0].headers["x-api-key"] == KEY


def test_the_async_client_maps_failures_too() -> None:
    async def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async def run() -> None:
        async with AsyncClient(URL, KEY, transport=httpx.MockTransport(fail)) as sq:
            await sq.devices()

    with pytest.raises(ConnectError, match="cannot reach"):
        asyncio.run(run())
