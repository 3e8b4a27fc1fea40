"""/metrics exports what the monitor merged under overload and the rate it applies, on a real IOC."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from squirrel.tools.bench.service import parse_metrics
from squirrel.tools.sim import SimHandle
from tests.conftest import make_settings
from tests.integration.live.test_live_ioc import register, wait_connected
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture
async def server(database_url: str, sim_ioc: SimHandle) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, roles=["api", "monitor"])) as s:
        yield s


async def scrape(server: RunningServer) -> dict[str, float]:
    async with server.client() as client:
        r = await client.get("/metrics")
        assert r.status_code == 200
        return parse_metrics(r.text)


async def test_merged_updates_and_applied_rate_are_exported(
    server: RunningServer, database_url: str, sim_ioc: SimHandle
) -> None:
    readbacks = [p.readback for p in sim_ioc.pvs]  # half of them change at 1-10 Hz
    await register(database_url, readbacks)
    await wait_connected(server, readbacks)
    before = await scrape(server)
    assert before["squirrel_monitor_merged_total"] == server.ctx.monitor.merged
    # The loop stalls (as under 2x overload): the IOC keeps sending, so newer values replace queued ones.
    time.sleep(1.5)  # noqa: ASYNC251 - the stall is the point
    async with asyncio.timeout(15):
        while True:
            after = await scrape(server)
            if after["squirrel_monitor_merged_total"] > before["squirrel_monitor_merged_total"]:
                break
            await asyncio.sleep(0.2)
    async with asyncio.timeout(15):
        while (await scrape(server))["squirrel_monitor_applied_per_second"] <= 0:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
