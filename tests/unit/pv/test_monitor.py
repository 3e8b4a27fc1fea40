"""squirrel.pv.MonitorCore: the half of a monitor that CA and PVA share, driven by a protocol-free subclass."""

from __future__ import annotations

import asyncio
import time

from squirrel.pv import Handover, MonitorCore, PVCache


class ToyWatch:
    def __init__(self, address: str) -> None:
        self.address = address
        self.heard = False
        self.since = time.monotonic()
        self.queued = False


class Breakers:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def learn(self, address: str, server: str | None) -> None:
        self.said.append(("learn", f"{address}@{server}"))

    def server_up(self, server: str) -> None:
        self.said.append(("up", server))

    def server_down(self, server: str) -> None:
        self.said.append(("down", server))


class ToyMonitor(MonitorCore[ToyWatch]):
    protocol = "toy"

    def __init__(self, cache: PVCache, breakers: Breakers | None = None) -> None:
        updates: Handover[ToyWatch, ToyWatch] = Handover(lambda w: w, lambda taken: None, 10)
        super().__init__(cache, breakers, updates, load_rows=None, listen=None, resync_interval=30.0)
        self.changes: list[tuple[set[str], set[str]]] = []
        self.flushed = False

    async def _change(self, added: set[str], removed: set[str]) -> None:
        self.changes.append((set(added), set(removed)))
        for address in removed:
            self._unwatch(self._watches[address])
        for address in added:
            self._watches[address] = ToyWatch(address)
            self.cache.ensure(address)

    def _unwatch(self, w: ToyWatch) -> None:
        self._watches.pop(w.address, None)
        self.cache.discard(w.address)

    def _unwatched_all(self) -> None:
        self.flushed = True


async def test_sync_subscribes_the_difference_and_stop_unwatches_everything() -> None:
    cache = PVCache()
    monitor = ToyMonitor(cache)
    await monitor.start()
    assert monitor.running and monitor.started_at is not None
    await monitor.sync({"A", "B"})
    await monitor.sync({"B", "C"})
    await monitor.change({"D"}, {"B"})
    assert monitor.changes == [({"A", "B"}, set()), ({"C"}, {"A"}), ({"D"}, {"B"})]
    assert sorted(monitor.addresses()) == ["C", "D"] and monitor.subscribed == 2
    assert monitor.watching("C") and not monitor.watching("A")
    assert (monitor.resyncs, monitor.full_resyncs, monitor.incremental_applies) == (0, 0, 0)  # no follower
    await monitor.stop()
    assert not monitor.running and monitor.subscribed == 0 and len(cache) == 0 and monitor.flushed


async def test_breakers_hear_a_servers_first_channel_up_and_its_last_one_down() -> None:
    breakers = Breakers()
    monitor = ToyMonitor(PVCache(), breakers)
    monitor._server_connected("A", "ioc1")
    monitor._server_connected("B", "ioc1")
    monitor._server_lost("ioc1", tell_breakers=True)  # B still up: not down yet
    assert breakers.said == [("learn", "A@ioc1"), ("up", "ioc1"), ("learn", "B@ioc1")]
    monitor._server_lost("ioc1", tell_breakers=True)
    assert breakers.said[-1] == ("down", "ioc1")
    monitor._server_connected("C", "ioc2")
    monitor._server_lost("ioc2", tell_breakers=False)  # unwatched, not disconnected: the server may be fine
    assert breakers.said[-1] == ("up", "ioc2")
    monitor._server_connected("C", "ioc2")  # counted from zero again: the first channel up
    assert breakers.said[-1] == ("up", "ioc2")


async def test_warm_means_heard_or_waited_long_enough() -> None:
    monitor = ToyMonitor(PVCache())
    await monitor.change({"A"}, set())
    now = time.monotonic()
    assert not monitor.is_warm("A", 3.0, now) and monitor.is_warm("A", 3.0, now + 3.0)
    assert monitor.cold(["unknown", "A"], 3.0, now) == ["unknown", "A"]  # in the order asked
    assert monitor.cold(["unknown", "A"], 3.0, now + 3.0) == ["unknown"]
    monitor._watches["A"].heard = True
    assert monitor.is_warm("A", 3.0, now)
    assert not monitor.is_warm("unknown", 0.0, now)
    assert monitor.cold(["A", "A"], 3.0, now) == []


async def test_the_update_rate_is_sampled_from_the_cache_counter() -> None:
    cache = PVCache()
    monitor = ToyMonitor(cache)
    await monitor.start()
    try:
        await asyncio.sleep(0.01)
        cache.total_updates += 500
        await asyncio.sleep(1.1)  # the next once-a-second sample sees the 500
        assert monitor.updates_per_s > 0
    finally:
        await monitor.stop()
