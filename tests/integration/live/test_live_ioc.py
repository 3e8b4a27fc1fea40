"""IOC → monitor → cache → SSE/REST with a real caproto IOC and the app under uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from squirrel.epics.ca import write_many
from squirrel.tools.sim import SimHandle
from tests.conftest import make_settings
from tests.support.server import RunningServer, SseEvent, run_server, sse

pytestmark = pytest.mark.usefixtures("ca_purge")


async def register(database_url: str, addresses: list[str]) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        for address in addresses:
            await conn.execute("INSERT INTO pv (setpoint_address) VALUES (%s)", (address,))
        await conn.execute("SELECT pg_notify('squirrel_registry', '')")


async def wait_connected(server: RunningServer, addresses: list[str], timeout: float = 15.0) -> None:
    cache = server.ctx.cache
    async with asyncio.timeout(timeout):
        while not all((s := cache.get(a)) is not None and s.connected and s.has_value for a in addresses):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture
async def server(database_url: str, sim_ioc: SimHandle) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, roles=["api", "monitor"], sse_heartbeat=1.0)) as s:
        yield s


async def test_caput_shows_up_as_sse_diff_and_in_rest(
    server: RunningServer, database_url: str, sim_ioc: SimHandle
) -> None:
    x = sim_ioc.special
    names = [x["double"], x["enum"], x["alarm"], x["nan"]]
    await register(database_url, names)
    await wait_connected(server, names)
    async with server.client() as client:
        async with sse(client, "/v1/live/events?pvs=" + ",".join(names)) as stream:
            initial = (await stream.next()).json()
            assert initial["count"] == 4 and all(e["connected"] for e in initial["data"].values())
            assert initial["data"][x["nan"]]["value"] == "NaN"

            await write_many([(x["double"], 42.25), (x["enum"], 2), (x["alarm"], 95.0)], timeout=5)
            seen: dict[str, dict[str, object]] = {}

            def complete(ev: SseEvent) -> bool:
                seen.update(ev.json().get("data", {}))
                return (
                    seen.get(x["double"], {}).get("value") == 42.25
                    and seen.get(x["enum"], {}).get("value") == "Fault"
                    and seen.get(x["alarm"], {}).get("value") == 95.0
                )

            await stream.until(lambda ev: ev.event == "diff" and complete(ev), timeout=10)
            assert seen[x["enum"]]["enum_index"] == 2
            assert seen[x["alarm"]]["status"] == "HIHI" and seen[x["alarm"]]["severity"] == 2

            heartbeat = await stream.until(lambda ev: ev.event == "heartbeat", timeout=5)
            assert heartbeat.json()["monitor_alive"] is True

        r = await client.get("/v1/pvs/live", params={"pv_names": ",".join(names)})
        body = r.json()
        assert body[x["double"]]["value"] == 42.25 and body[x["double"]]["units"] == "mm"
        status = (await client.get("/v1/pvs/cache/status")).json()
        assert status == {"cachedPvCount": 4, "status": "ok", "error": None}
        metrics = (await client.get("/metrics")).text
        server_name = f"localhost:{sim_ioc.iocs[0].port}"
        assert f'squirrel_circuit_state{{server="{server_name}",state="closed"}} 1.0' in metrics
        assert "squirrel_circuits_open 0.0" in metrics and "squirrel_monitor_alive 1.0" in metrics
        assert "squirrel_pvs_connected 4.0" in metrics


async def test_each_change_is_sent_once(server: RunningServer, database_url: str, sim_ioc: SimHandle) -> None:
    """caproto sends every event to every subscription whatever its mask, so a write also reaches the
    DBE_PROPERTY one, often in a later batch: the same value, alarm and EPICS time twice. SSE sends it once."""
    alarm = sim_ioc.special["alarm"]
    await register(database_url, [alarm])
    await wait_connected(server, [alarm])
    sent: list[tuple[object, ...]] = []
    async with server.client() as client, sse(client, "/v1/live/events?pvs=" + alarm) as stream:
        entry = (await stream.next()).json()["data"][alarm]
        sent.append((entry["value"], entry["status"], entry["severity"], entry["timestamp"]))
        values = [float(v) for v in range(10, 30)] + [95.0]
        for value in values:  # one write per diff window: each change finds the window open
            await write_many([(alarm, value)], timeout=5)
            await asyncio.sleep(0.15)
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.0
        while loop.time() < end:
            ev = await stream.next()
            if ev.event == "diff":
                entry = ev.json()["data"][alarm]
                sent.append((entry["value"], entry["status"], entry["severity"], entry["timestamp"]))
    seen = [s[0] for s in sent[1:]]
    # Each value once, in write order (a loaded machine may merge two writes into one window: fine).
    assert seen == sorted(set(seen), key=values.index), sent
    assert len(seen) >= len(values) // 2 and seen[-1] == 95.0 and sent[-1][1:3] == ("HIHI", 2)
    assert len(set(sent)) == len(sent)
