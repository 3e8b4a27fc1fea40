"""The bench load driver's CA calls against a real IOC: connect, then act; a failure names the PVs."""

from __future__ import annotations

import pytest

from squirrel.tools.bench import ca_driver
from squirrel.tools.sim import SimHandle

pytestmark = pytest.mark.usefixtures("ca_purge")


async def test_put_then_get_many_pvs(sim_ioc: SimHandle) -> None:
    setpoints = [p.setpoint for p in sim_ioc.pvs if p.kind == "double"][:10]
    values = [float(i) + 0.5 for i in range(10)]
    await ca_driver.put_all(setpoints, values, "load control")
    got = await ca_driver.get_all(setpoints, "tick counts")
    assert [float(v) for v in got] == values


async def test_pvs_that_never_connect_are_named(sim_ioc: SimHandle) -> None:
    live = sim_ioc.pvs[0].setpoint
    with pytest.raises(ca_driver.DriverError, match=r"load control: 2 PV\(s\) never connected: NOPE:A, NOPE:B"):
        await ca_driver.connect_all([live, "NOPE:A", "NOPE:B"], "load control", attempts=2, timeout=0.3)
