"""Open SSE and WebSocket streams end when their key is revoked (issue 9 §8), over a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from squirrel.services.keys import WATCH_INTERVAL
from tests.conftest import make_settings
from tests.support.server import RunningServer, SseReader, feed, run_server, sse

MARGIN = 5.0  # seconds on top of the key cache's lifetime, for a loaded machine


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, sse_heartbeat=0.5)) as s:
        yield s


async def _new_key(server: RunningServer) -> tuple[str, str]:
    async with server.client("admin") as admin:
        r = await admin.post("/v1/api-keys", json={"appName": "stream-reader", "scopes": ["read"]})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["token"]


async def _pending_job(server: RunningServer) -> str:
    # The api role alone runs no worker: the job stays pending and its event stream stays open.
    async with server.client("write") as writer:
        r = await writer.post("/v1/snapshots", json={"title": "never runs"})
    assert r.status_code == 202, r.text
    job_id: str = r.json()["jobId"]
    return job_id


async def _sse_ends(stream: SseReader, within: float) -> None:
    async with asyncio.timeout(within):
        with pytest.raises(EOFError):
            while True:
                await stream.next(timeout=within)


async def _ws_close_code(ws: ClientConnection, within: float) -> int | None:
    async with asyncio.timeout(within):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def _open_streams_then(server: RunningServer, revoke: object, within: float) -> None:
    """Open the three kinds of stream with one fresh key, revoke it with `revoke()`, and check each ends."""
    key_id, token = await _new_key(server)
    feed(server.ctx.cache, "REV:A", 1.0)
    job_id = await _pending_job(server)
    headers = {"X-API-Key": token}
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
        sse(client, "/v1/live/events?pvs=REV:A", headers=headers) as live,
        sse(client, f"/v1/jobs/{job_id}/events?api_key={token}") as job,
        connect(f"{server.ws_url}/v1/ws/pvs", additional_headers=headers) as ws,
    ):
        assert (await live.next()).event == "initial"
        assert (await job.next()).json()["status"] == "pending"
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"
        assert (await live.next()).event == "heartbeat"  # alive before the revocation

        assert callable(revoke)
        await revoke(key_id)

        await _sse_ends(live, within)
        await _sse_ends(job, within)
        assert await _ws_close_code(ws, within) == 1008  # policy violation
    # The key no longer works, and nothing is left subscribed.
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        r = await client.get("/v1/pvs/live/all")
        assert r.status_code == 401
    broadcaster = server.ctx.broadcaster
    assert broadcaster.stats("sse")["clients"] == 0 and broadcaster.stats("ws")["clients"] == 0
    assert server.app.state.key_service._watches == {}


async def test_revoking_a_key_by_the_api_ends_its_streams(server: RunningServer) -> None:
    async def revoke(key_id: str) -> None:
        async with server.client("admin") as admin:
            r = await admin.delete(f"/v1/api-keys/{key_id}")
        assert r.status_code == 200 and r.json()["isActive"] is False

    await _open_streams_then(server, revoke, within=MARGIN)


async def test_a_key_revoked_by_another_process_ends_streams_within_the_cache_lifetime(
    server: RunningServer, database_url: str
) -> None:
    async def revoke(key_id: str) -> None:
        # Another instance revoking: only the database changes, this process is not told.
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute("UPDATE api_key SET is_active = false WHERE id = %s", [key_id])

    await _open_streams_then(server, revoke, within=WATCH_INTERVAL + MARGIN)


async def test_other_keys_streams_stay_open(server: RunningServer) -> None:
    key_id, _ = await _new_key(server)
    feed(server.ctx.cache, "REV:B", 1.0)
    async with (
        server.client("read") as client,
        sse(client, "/v1/live/events?pvs=REV:B") as stream,
    ):
        assert (await stream.next()).event == "initial"
        async with server.client("admin") as admin:
            assert (await admin.delete(f"/v1/api-keys/{key_id}")).status_code == 200
        for _ in range(3):  # heartbeats keep coming on the stream of the key that was not revoked
            assert (await stream.next()).event == "heartbeat"
        async with connect(f"{server.ws_url}/v1/ws/pvs", additional_headers=server.headers("read")) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv())["type"] == "pong"
            assert sum(len(w) for w in server.app.state.key_service._watches.values()) == 2  # SSE + WS
    # Streams that end by themselves stop watching their key (and the watch loop stops with the last one).
    keys = server.app.state.key_service
    async with asyncio.timeout(MARGIN):
        while True:
            if not keys._watches and (keys._watcher is None or keys._watcher.done()):
                break
            await asyncio.sleep(0.05)
