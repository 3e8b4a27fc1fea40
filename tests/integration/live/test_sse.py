"""GET /v1/live/events over real HTTP (uvicorn in-process), fed through the PV cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import psycopg
import pytest

from tests.conftest import make_settings
from tests.support.server import RunningServer, feed, run_server, sse


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, sse_heartbeat=0.5)) as s:
        yield s


async def test_initial_then_diffs_then_heartbeat_with_consecutive_ids(server: RunningServer) -> None:
    cache = server.ctx.cache
    feed(cache, "T:A", 1.5, units="mA", precision=3)
    feed(cache, "T:B", "hello")
    async with server.client() as client, sse(client, "/v1/live/events?pvs=T:A,T:B") as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        initial = await stream.next()
        assert initial.event == "initial" and initial.id == 1
        body = initial.json()
        assert body["count"] == 2 and set(body["data"]) == {"T:A", "T:B"}
        a = body["data"]["T:A"]
        assert a["value"] == 1.5 and a["type"] == "double" and a["connected"] is True
        assert a["units"] == "mA" and a["precision"] == 3 and a["status"] == "NO_ALARM" and a["severity"] == 0
        assert isinstance(a["timestamp"], float) and isinstance(a["updated_at"], float)
        assert isinstance(body["timestamp"], float)

        feed(cache, "T:A", 2.5)
        feed(cache, "T:OTHER", 9.0)  # not selected: never sent
        diff = await stream.next()
        assert diff.event == "diff" and diff.id == 2
        assert diff.json()["data"].keys() == {"T:A"} and diff.json()["count"] == 1
        assert diff.json()["data"]["T:A"]["value"] == 2.5

        beat = await stream.next()
        assert beat.event == "heartbeat" and beat.id == 3
        assert beat.json()["monitor_alive"] is False and isinstance(beat.json()["timestamp"], float)


async def test_non_finite_values_enums_and_unmonitored_addresses(server: RunningServer) -> None:
    cache = server.ctx.cache
    feed(cache, "T:NAN", float("nan"))
    feed(cache, "T:ARR", [1.0, float("inf"), float("-inf")])
    feed(cache, "T:ENUM", "Closed", type="enum", enum_index=1, enum_strings=["Open", "Closed"])
    async with server.client() as client, sse(client, "/v1/live/events?pvs=T:NAN&pvs=T:ARR,T:ENUM,T:NOPE") as stream:
        initial = await stream.next()
        assert "NaN" in initial.data and ": NaN" not in initial.data  # a string, never bare NaN
        data = initial.json()["data"]
        assert data["T:NAN"]["value"] == "NaN"
        assert data["T:ARR"]["value"] == [1.0, "Infinity", "-Infinity"] and data["T:ARR"]["type"] == "double[]"
        assert data["T:ENUM"]["value"] == "Closed" and data["T:ENUM"]["enum_index"] == 1
        assert data["T:ENUM"]["enum_strings"] == ["Open", "Closed"]
        assert data["T:NOPE"] == {"connected": False, "error": "not monitored"}


async def test_diffs_coalesce_at_most_one_per_interval_and_end_on_latest_value(server: RunningServer) -> None:
    cache = server.ctx.cache
    feed(cache, "T:FAST", 0.0)
    async with server.client() as client, sse(client, "/v1/live/events?pvs=T:FAST") as stream:
        await stream.next()
        for i in range(1, 101):  # 100 updates over ~1 s
            feed(cache, "T:FAST", float(i))
            await asyncio.sleep(0.01)
        events = []
        while not events or events[-1].json().get("data", {}).get("T:FAST", {}).get("value") != 100.0:
            events.append(await stream.next())
        ids = [e.id for e in events]
        assert ids == list(range(2, 2 + len(ids)))  # one id per event, no gaps
        diffs = [e for e in events if e.event == "diff"]
        assert all(d.json()["count"] >= 1 and d.json()["data"] for d in diffs)  # never an empty diff
        assert len(diffs) <= 20  # 100 updates in ~1 s coalesce into at most ~one diff per 100 ms


async def test_reconnect_with_last_event_id_gets_fresh_initial(server: RunningServer) -> None:
    feed(server.ctx.cache, "T:R", 1.0)
    async with server.client() as client:
        async with sse(client, "/v1/live/events?pvs=T:R", headers={"Last-Event-ID": "41"}) as stream:
            ev = await stream.next()
            assert ev.event == "initial" and ev.id == 42 and ev.json()["data"]["T:R"]["value"] == 1.0


async def test_select_all(server: RunningServer) -> None:
    cache = server.ctx.cache
    for i in range(5):
        feed(cache, f"T:ALL{i}", float(i))
    async with server.client() as client, sse(client, "/v1/live/events?all=true") as stream:
        initial = await stream.next()
        assert initial.json()["count"] == 5
        feed(cache, "T:NEW", 7.0)  # an address added later is part of "all"
        diff = await stream.next()
        assert diff.event == "diff" and diff.json()["data"]["T:NEW"]["value"] == 7.0


async def test_select_by_tag_ids(server: RunningServer, database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        group = await (await conn.execute("INSERT INTO tag_group (name) VALUES ('area') RETURNING id")).fetchone()
        assert group is not None
        cur = await conn.execute("INSERT INTO tag (group_id, name) VALUES (%s, 'linac') RETURNING id", [group[0]])
        tag = await cur.fetchone()
        assert tag is not None
        cur = await conn.execute(
            "INSERT INTO pv (setpoint_address, readback_address, config_address) "
            "VALUES ('TG:SP', 'TG:RB', 'TG:CFG') RETURNING id"
        )
        pv = await cur.fetchone()
        assert pv is not None
        await conn.execute("INSERT INTO pv_tag (pv_id, tag_id) VALUES (%s, %s)", [pv[0], tag[0]])
        await conn.execute("INSERT INTO pv (setpoint_address) VALUES ('TG:UNTAGGED')")
    tag_id: UUID = tag[0]
    cache = server.ctx.cache
    for address in ("TG:SP", "TG:RB", "TG:UNTAGGED"):
        feed(cache, address, 1.0)
    async with server.client() as client:
        async with sse(client, f"/v1/live/events?tags={tag_id}&pvs=X:EXTRA") as stream:
            data = (await stream.next()).json()["data"]
            assert set(data) == {"TG:SP", "TG:RB", "X:EXTRA"}  # config addresses are never monitored
        r = await client.get(f"/v1/live/events?tags={UUID(int=5)}")
        assert r.status_code == 400 and str(UUID(int=5)) in r.json()["detail"]
        r = await client.get("/v1/live/events?tags=not-a-uuid")
        assert r.status_code == 400 and "tags" in r.json()["detail"]


async def test_selection_is_required(server: RunningServer) -> None:
    async with server.client() as client:
        r = await client.get("/v1/live/events")
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
        assert "all=true" in r.json()["detail"]


async def test_auth_by_header_query_and_cookie(server: RunningServer) -> None:
    feed(server.ctx.cache, "T:K", 3.0)
    token = server.tokens["read"]
    async with server.client(scope=None) as anon:
        r = await anon.get("/v1/live/events?pvs=T:K")
        assert r.status_code == 401
        r = await anon.get("/v1/live/events?pvs=T:K&api_key=sq_unknown_key_value_here")
        assert r.status_code == 401
        async with sse(anon, f"/v1/live/events?pvs=T:K&api_key={token}") as stream:
            assert (await stream.next()).json()["data"]["T:K"]["value"] == 3.0
        async with sse(anon, "/v1/live/events?pvs=T:K", cookies={"squirrel_key": token}) as stream:
            assert (await stream.next()).event == "initial"
        # The query key is only for streams: REST reads still need the header.
        r = await anon.get(f"/v1/pvs/live?pv_names=T:K&api_key={token}")
        assert r.status_code == 401


async def test_stalled_client_does_not_delay_another(server: RunningServer) -> None:
    cache = server.ctx.cache
    big = "x" * 1_000_000
    feed(cache, "T:BIG", big)
    feed(cache, "T:MARK", 0.0)
    # A client that opens the stream and never reads a byte.
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        f"GET /v1/live/events?all=true HTTP/1.1\r\nHost: x\r\nX-API-Key: {server.tokens['read']}\r\n\r\n".encode()
    )
    await writer.drain()
    try:
        async with server.client() as client, sse(client, "/v1/live/events?pvs=T:MARK") as stream:
            await stream.next()
            # Push up to ~80 MB at the stalled client: its socket buffers fill and its sender blocks.
            for i in range(1, 81):
                feed(cache, "T:BIG", big + str(i))
                feed(cache, "T:MARK", float(i))
                await asyncio.sleep(0.02)
            ev = await stream.until(lambda e: e.event == "diff" and e.json()["data"]["T:MARK"]["value"] == 80.0, 5)
            assert ev.event == "diff"
            stalled = [s for s in server.ctx.broadcaster.subscribers("sse") if s.addresses is None]
            assert len(stalled) == 1
            await asyncio.sleep(0.5)
            # Its sender is still stuck on the socket with changes pending (a reading client drains within
            # 100 ms), it lost intermediate values, and none of that held up the marker above.
            assert stalled[0].has_pending and stalled[0].coalesced > 0
    finally:
        writer.close()


async def test_server_stops_with_a_stream_open(database_url: str) -> None:
    manager = run_server(make_settings(database_url))
    server = await manager.__aenter__()
    feed(server.ctx.cache, "T:S", 1.0)
    async with server.client() as client, sse(client, "/v1/live/events?pvs=T:S") as stream:
        await stream.next()
        broadcaster = server.ctx.broadcaster
        async with asyncio.timeout(20):  # uvicorn's graceful-shutdown timeout ends the open stream
            await manager.__aexit__(None, None, None)
        with pytest.raises((EOFError, httpx.HTTPError)):
            while True:
                await stream.next(timeout=5)
    assert not broadcaster.running and broadcaster.subscribers() == []
