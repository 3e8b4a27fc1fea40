"""WS /v1/ws/pvs, the old protocol, over a real socket (uvicorn in-process + the websockets client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.conftest import make_settings
from tests.support.server import RunningServer, feed, run_server


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, sse_heartbeat=0.5)) as s:
        yield s


async def _recv(ws: ClientConnection, kind: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
    """The next message (of `kind`, skipping heartbeats when another kind is wanted)."""
    async with asyncio.timeout(timeout):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if kind is None or msg["type"] == kind:
                return msg


async def test_protocol_round_trip(server: RunningServer) -> None:
    cache = server.ctx.cache
    feed(cache, "W:A", 1.0)
    feed(cache, "W:B", float("nan"))
    headers = {"X-API-Key": server.tokens["read"]}
    async with connect(f"{server.ws_url}/v1/ws/pvs", additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "subscribe", "pvNames": ["W:A", "W:B"]}))
        initial = await _recv(ws, "initial")
        assert initial["count"] == 2 and initial["data"]["W:B"]["value"] == "NaN"

        feed(cache, "W:A", 2.0)
        diff = await _recv(ws, "diff")
        assert diff["data"] == {"W:A": diff["data"]["W:A"]} and diff["data"]["W:A"]["value"] == 2.0
        assert diff["count"] == 1 and isinstance(diff["timestamp"], float)

        await ws.send(json.dumps({"type": "ping"}))
        assert isinstance((await _recv(ws, "pong"))["timestamp"], float)

        await ws.send(json.dumps({"type": "get_all"}))
        everything = await _recv(ws, "all_values")
        assert everything["count"] == 2 and set(everything["values"]) == {"W:A", "W:B"}

        beat = await _recv(ws, "heartbeat")
        assert beat["monitor_alive"] is False and isinstance(beat["timestamp"], float)

        # unsubscribe (snake_case names accepted): no more diffs for W:A, still for W:C.
        await ws.send(json.dumps({"type": "unsubscribe", "pv_names": ["W:A"]}))
        await ws.send(json.dumps({"type": "subscribe", "pv_names": ["W:C"]}))
        initial = await _recv(ws, "initial")
        assert initial["data"] == {"W:C": {"connected": False, "error": "not monitored"}}
        feed(cache, "W:A", 3.0)
        feed(cache, "W:C", 4.0)
        diff = await _recv(ws, "diff")
        assert set(diff["data"]) == {"W:C"} and diff["data"]["W:C"]["value"] == 4.0


async def test_bad_messages_get_errors_and_the_socket_stays_open(server: RunningServer) -> None:
    headers = {"X-API-Key": server.tokens["read"]}
    async with connect(f"{server.ws_url}/v1/ws/pvs", additional_headers=headers) as ws:
        for bad in ("not json", json.dumps({"type": "dance"}), json.dumps({"type": "subscribe"}), "[1,2]"):
            await ws.send(bad)
            msg = await _recv(ws, "error")
            assert isinstance(msg["message"], str) and msg["message"]
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _recv(ws, "pong"))["type"] == "pong"


async def test_auth_by_query_and_cookie_and_refusal_without_key(server: RunningServer) -> None:
    token = server.tokens["read"]
    with pytest.raises(InvalidStatus):
        async with connect(f"{server.ws_url}/v1/ws/pvs"):
            pass
    async with connect(f"{server.ws_url}/v1/ws/pvs?api_key={token}") as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _recv(ws, "pong"))["type"] == "pong"
    async with connect(f"{server.ws_url}/v1/ws/pvs", additional_headers={"Cookie": f"squirrel_key={token}"}) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _recv(ws, "pong"))["type"] == "pong"
    assert server.ctx.broadcaster.stats("ws")["clients"] == 0  # closed sessions leave the broadcaster
