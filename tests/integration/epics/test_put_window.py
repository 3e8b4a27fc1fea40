"""Puts with completion through the per-server window, on a real IOC: never more in flight per server
than the window, every put still written, and a batch that times out gives its places back (the next
batch to that server is not stuck behind it)."""

from __future__ import annotations

import asyncio

import pytest

from squirrel.epics import _channels as channels
from squirrel.epics._window import Sender, ServerWindow
from squirrel.epics.ca import write_many
from squirrel.tools.sim import SLOW_PUT_DELAY, SimHandle

pytestmark = pytest.mark.usefixtures("ca_purge")


class Recording(ServerWindow):
    """A window that remembers the most requests it ever had in flight to one server."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.most = 0

    def submit(self, server: str, sender: Sender) -> None:
        super().submit(server, sender)
        self.most = max(self.most, self.in_flight(server))

    def done(self, server: str, count: int = 1) -> None:
        super().done(server, count)
        self.most = max(self.most, self.in_flight(server))


def _window(limit: int) -> Recording:
    window = Recording(limit)
    channels.pool().put_window = window
    return window


async def test_concurrent_batches_share_the_window_and_all_are_written(sim_ioc: SimHandle) -> None:
    window = _window(3)
    setpoints = [p.setpoint for p in sim_ioc.pvs if p.kind == "double"][:40]
    first, second = setpoints[:20], setpoints[20:]
    results = await asyncio.gather(
        write_many([(a, float(i)) for i, a in enumerate(first)], timeout=10.0),
        write_many([(a, float(i) + 0.5) for i, a in enumerate(second)], timeout=10.0),
    )
    bad = {a: r for batch in results for a, r in batch.items() if r.outcome != "written"}
    assert not bad, bad
    assert window.most == 3  # the window was full, and never over
    servers = {c.server or "" for c in channels.pool().channels.values()}
    assert all(window.in_flight(s) == 0 and window.waiting(s) == 0 for s in servers)


async def test_a_timed_out_batch_gives_its_places_back(sim_ioc: SimHandle) -> None:
    slow, other = sim_ioc.special["slow"], sim_ioc.special["double"]
    window = _window(1)
    late = await write_many([(slow, 9.0), (other, 1.25)], timeout=SLOW_PUT_DELAY / 5)
    pool = channels.pool()
    assert pool.channels[slow].server == pool.channels[other].server  # one server: `other` queued behind
    assert late[slow].outcome == "timeout" and late[other].outcome == "timeout"
    server = pool.channels[slow].server or ""
    assert window.in_flight(server) == 0 and window.waiting(server) == 0
    ok = await write_many([(other, 2.5)], timeout=5.0)  # not stuck behind the given-up batch
    assert ok[other].outcome == "written"


async def test_the_configured_window_reaches_open_and_new_pools(sim_ioc: SimHandle) -> None:
    from squirrel.epics._window import PUT_WINDOW
    from squirrel.epics.ca import set_put_window

    open_pool = channels.pool()
    try:
        set_put_window(7)  # what the service does with SQUIRREL_CA_PUT_WINDOW
        assert open_pool.put_window.limit == 7
        assert ServerWindow().limit == 7  # and what the next loop's pool takes
        with pytest.raises(ValueError, match="at least 1"):
            set_put_window(0)
    finally:
        set_put_window(PUT_WINDOW)
    assert open_pool.put_window.limit == PUT_WINDOW
