"""The monitor opens a registry's channels in name order, on a real IOC.

Names sharing a prefix mostly live on one IOC: in name order each search datagram asks one IOC, and each
burst of channel and subscription requests goes to few circuits. In the hash order of a set, 200K PVs on
8 IOCs took twice as long to connect and twice the CPU (squirrel.epics.monitor).
"""

from __future__ import annotations

import random

import pytest

from squirrel.epics._channels import pool
from squirrel.epics.monitor import Monitor
from squirrel.pv import PVCache
from squirrel.tools.sim import SimHandle
from tests.support.waiting import until

pytestmark = pytest.mark.usefixtures("ca_purge")


async def test_channels_are_created_in_name_order_and_all_connect(sim_ioc: SimHandle) -> None:
    addresses = [a for p in sim_ioc.pvs for a in (p.setpoint, p.readback)]
    shuffled = random.Random(7).sample(addresses, len(addresses))
    cache = PVCache()
    monitor = Monitor(cache)
    await monitor.start()
    try:
        await monitor.change(set(shuffled), set())
        assert list(pool().channels) == sorted(addresses)
        connected = lambda: all((s := cache.get(a)) is not None and s.connected for a in addresses)  # noqa: E731
        await until(connected, "every channel connected", 10)
    finally:
        await monitor.stop()
