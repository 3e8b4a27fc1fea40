"""Live REST routes, /metrics and route precedence over /v1/pvs/{id}, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import make_settings
from tests.support.server import RunningServer, feed, run_server, sse


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url)) as s:
        yield s


async def test_get_live_by_repeated_and_comma_names(server: RunningServer) -> None:
    cache = server.ctx.cache
    feed(cache, "L:A", 1.0)
    feed(cache, "L:B", float("-inf"))
    feed(cache, "L:C", "text", connected=False, error="disconnected")
    async with server.client() as client:
        r = await client.get("/v1/pvs/live?pv_names=L:A,L:B&pv_names=L:C&pv_names=L:NONE")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert list(body) == ["L:A", "L:B", "L:C", "L:NONE"]
        assert body["L:A"]["value"] == 1.0 and body["L:B"]["value"] == "-Infinity"
        assert body["L:C"]["connected"] is False and body["L:C"]["error"] == "disconnected"
        assert body["L:NONE"] == {"connected": False, "error": "not monitored"}
        assert "enum_index" not in body["L:A"]  # optional members only when set

        feed(cache, "L:A", 2.0)  # REST reads the cache directly, with no broadcaster delay
        assert (await client.get("/v1/pvs/live?pv_names=L:A")).json()["L:A"]["value"] == 2.0

        r = await client.get("/v1/pvs/live")
        assert r.status_code == 400 and "pv_names" in r.json()["detail"]


async def test_post_live_accepts_snake_and_camel_names(server: RunningServer) -> None:
    feed(server.ctx.cache, "L:P", 5)
    async with server.client() as client:
        r = await client.post("/v1/pvs/live", json={"pv_names": ["L:P", "L:Q"]})
        assert r.status_code == 200
        assert r.json()["L:P"]["value"] == 5 and r.json()["L:Q"]["error"] == "not monitored"
        r = await client.post("/v1/pvs/live", json={"pvNames": ["L:P"]})
        assert r.status_code == 200 and list(r.json()) == ["L:P"]
        assert (await client.post("/v1/pvs/live", json={"pv_names": []})).json() == {}
        r = await client.post("/v1/pvs/live", json={"pv_names": "L:P,L:Q"})
        assert r.status_code == 400
        r = await client.post("/v1/pvs/live", json={"pv_names": ["x" * 300]})
        assert r.status_code == 400 and "255" in r.json()["detail"]


async def test_live_all_and_cache_status(server: RunningServer) -> None:
    cache = server.ctx.cache
    for i in range(3):
        feed(cache, f"L:ALL{i}", float(i))
    async with server.client() as client:
        r = await client.get("/v1/pvs/live/all")
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == 3 and set(body["values"]) == {"L:ALL0", "L:ALL1", "L:ALL2"}
        r = await client.get("/v1/pvs/cache/status")
        assert r.status_code == 200
        status = r.json()
        assert status["cachedPvCount"] == 3
        # This instance runs only the api role and has no Redis: nothing feeds the cache, and it says so.
        assert status["status"] == "unavailable" and "monitor" in status["error"]


async def test_static_live_paths_win_over_pv_id_path(server: RunningServer) -> None:
    async with server.client() as client:
        for path in ("/v1/pvs/live?pv_names=X", "/v1/pvs/live/all", "/v1/pvs/cache/status"):
            r = await client.get(path)
            assert r.status_code == 200, (path, r.text)
        # The registry's /v1/pvs/{id} still answers for ids.
        r = await client.get("/v1/pvs/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 404


async def test_live_routes_need_read_scope(server: RunningServer) -> None:
    async with server.client(scope=None) as anon:
        for path in ("/v1/pvs/live?pv_names=X", "/v1/pvs/live/all", "/v1/pvs/cache/status"):
            assert (await anon.get(path)).status_code == 401
        assert (await anon.post("/v1/pvs/live", json={"pv_names": []})).status_code == 401


async def test_metrics_are_public_prometheus_text(server: RunningServer) -> None:
    cache = server.ctx.cache
    feed(cache, "M:A", 1.0)
    feed(cache, "M:B", 2.0, connected=False)
    async with server.client() as client, sse(client, "/v1/live/events?pvs=M:A") as stream:
        await stream.next()
        async with server.client(scope=None) as anon:
            r = await anon.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
        metrics = {
            line.split(" ")[0]: float(line.split(" ")[1])
            for line in text.splitlines()
            if line and not line.startswith("#")
        }
        assert metrics["squirrel_pvs"] == 2 and metrics["squirrel_pvs_connected"] == 1
        assert metrics["squirrel_pv_updates_total"] == 2
        assert metrics["squirrel_sse_clients"] == 1
        assert 'squirrel_live_clients{transport="sse"}' in metrics
        assert "squirrel_sse_dropped_updates_total" in metrics
        assert 'squirrel_gc_seconds_total{generation="2"}' in metrics
        assert metrics['squirrel_gc_collections_total{generation="0"}'] >= 0
        assert metrics["squirrel_db_pool_pool_max"] == 4
        assert "squirrel_monitor_alive" in metrics and "squirrel_pv_updates_per_second" in metrics


async def test_metrics_can_be_disabled(database_url: str) -> None:
    async with run_server(make_settings(database_url, metrics_enabled=False), tokens=False) as s:
        async with s.client(scope=None) as anon:
            r = await anon.get("/metrics")
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
