"""Prometheus metrics read from the running parts at scrape time, in a registry owned by the app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from squirrel.live.redis_bridge import RedisConsumer, RedisPublisher
from squirrel.services import _gc as gc_clock
from squirrel.services.context import ServiceContext
from squirrel.services.live import monitor_alive

_CIRCUIT_STATES = ("closed", "half_open", "open")


class SquirrelCollector(Collector):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        yield from self._cache()
        yield from self._protocols()
        yield from self._live()
        yield from self._breakers()
        yield from self._pool()
        yield from self._redis()
        yield from self._auth()
        yield from self._gc()

    def _cache(self) -> Iterator[Metric]:
        cache = self.ctx.cache
        counts = cache.counts()
        yield GaugeMetricFamily("squirrel_pvs", "Addresses in the live PV cache", value=counts["total"])
        yield GaugeMetricFamily(
            "squirrel_pvs_connected", "Connected addresses in the live cache", value=counts["connected"]
        )
        yield GaugeMetricFamily(
            "squirrel_pvs_disconnected", "Disconnected addresses in the live cache", value=counts["disconnected"]
        )
        yield CounterMetricFamily(
            "squirrel_pv_updates",
            "Monitor updates applied to the cache (rate() = updates/s)",
            value=cache.total_updates,
        )
        yield GaugeMetricFamily(
            "squirrel_monitor_alive", "1 when a monitor feeds this cache", value=int(monitor_alive(self.ctx))
        )
        yield from self._monitor()

    def _monitor(self) -> Iterator[Metric]:
        """The local monitor's intake: what it applied, and what it merged away under overload."""
        monitor = self.ctx.monitor
        if monitor is None:
            return
        yield CounterMetricFamily(
            "squirrel_monitor_merged",
            "IOC updates replaced by a newer value of the same PV before the monitor applied them "
            "(overload: the newest value is kept)",
            value=monitor.merged,
        )
        yield GaugeMetricFamily(
            "squirrel_monitor_applied_per_second",
            "IOC updates the monitor applied per second (the last ~10 s)",
            value=monitor.updates_per_s,
        )

    def _protocols(self) -> Iterator[Metric]:
        """The cache and update counts split by protocol (ca, pva)."""
        pvs = GaugeMetricFamily(
            "squirrel_protocol_pvs", "Addresses in the live cache by protocol and state", labels=["protocol", "state"]
        )
        for protocol, (connected, disconnected) in self.ctx.cache.protocol_counts().items():
            pvs.add_metric([protocol, "connected"], connected)
            pvs.add_metric([protocol, "disconnected"], disconnected)
        yield pvs
        pva = self.ctx.pva_monitor
        pva_updates = pva.total_updates if pva is not None else 0
        updates = CounterMetricFamily(
            "squirrel_protocol_pv_updates", "Monitor updates applied to the cache by protocol", labels=["protocol"]
        )
        updates.add_metric(["ca"], max(0, self.ctx.cache.total_updates - pva_updates))
        updates.add_metric(["pva"], pva_updates)
        yield updates

    def _live(self) -> Iterator[Metric]:
        broadcaster = self.ctx.broadcaster
        if broadcaster is None:
            return
        clients = GaugeMetricFamily("squirrel_live_clients", "Open live-value streams", labels=["transport"])
        drops = CounterMetricFamily(
            "squirrel_live_dropped_updates",
            "Updates a client never saw because a newer value superseded them (coalescing)",
            labels=["transport"],
        )
        overflows = CounterMetricFamily(
            "squirrel_live_overflows",
            "Times a client's pending set outgrew the bound and collapsed into a resync",
            labels=["transport"],
        )
        for kind in ("sse", "ws"):
            stats = broadcaster.stats(kind)
            clients.add_metric([kind], stats["clients"])
            drops.add_metric([kind], stats["coalesced"])
            overflows.add_metric([kind], stats["overflows"])
        yield clients
        yield drops
        yield overflows
        sse = broadcaster.stats("sse")
        yield GaugeMetricFamily("squirrel_sse_clients", "Open SSE streams", value=sse["clients"])
        yield CounterMetricFamily(
            "squirrel_sse_dropped_updates", "SSE updates superseded before sending", value=sse["coalesced"]
        )
        yield CounterMetricFamily(
            "squirrel_broadcaster_changes", "Changed addresses fanned out", value=broadcaster.changes
        )
        yield CounterMetricFamily("squirrel_broadcaster_ticks", "Broadcaster ticks", value=broadcaster.ticks)
        yield GaugeMetricFamily(
            "squirrel_pv_updates_per_second",
            "Cache updates per second over the last second",
            value=broadcaster.update_rate,
        )

    def _breakers(self) -> Iterator[Metric]:
        breakers = self.ctx.breakers
        family = GaugeMetricFamily(
            "squirrel_circuit_state", "1 for the current state of each IOC circuit", labels=["server", "state"]
        )
        open_count = 0
        for item in breakers.states():
            name, state = _circuit(item)
            open_count += state == "open"
            for candidate in _CIRCUIT_STATES:
                family.add_metric([name, candidate], int(candidate == state))
        yield family
        yield GaugeMetricFamily("squirrel_circuits_open", "IOC circuits currently open", value=open_count)

    def _pool(self) -> Iterator[Metric]:
        stats: dict[str, int] = self.ctx.pool.get_stats()
        for key, value in sorted(stats.items()):
            yield GaugeMetricFamily(f"squirrel_db_pool_{key}", f"psycopg pool statistic {key}", value=value)

    def _redis(self) -> Iterator[Metric]:
        bridge = self.ctx.redis_bridge
        if isinstance(bridge, RedisPublisher):
            yield GaugeMetricFamily("squirrel_redis_connected", "1 while Redis answers", value=int(bridge.connected))
            yield CounterMetricFamily("squirrel_redis_published", "Diff messages published", value=bridge.published)
            yield CounterMetricFamily("squirrel_redis_errors", "Redis connection failures", value=bridge.errors)
        elif isinstance(bridge, RedisConsumer):
            yield GaugeMetricFamily("squirrel_redis_connected", "1 while Redis answers", value=int(bridge.connected))
            yield CounterMetricFamily(
                "squirrel_redis_applied", "Diff messages applied to the cache", value=bridge.applied
            )
            yield CounterMetricFamily(
                "squirrel_redis_reloads", "Full reloads of the mirrored cache", value=bridge.reloads
            )
            yield CounterMetricFamily("squirrel_redis_errors", "Redis connection failures", value=bridge.errors)

    def _gc(self) -> Iterator[Metric]:
        clock = gc_clock.install()
        seconds = CounterMetricFamily(
            "squirrel_gc_seconds", "Seconds the cyclic garbage collector paused the process", labels=["generation"]
        )
        runs = CounterMetricFamily("squirrel_gc_collections", "Garbage collections", labels=["generation"])
        for generation in gc_clock.GENERATIONS:
            seconds.add_metric([str(generation)], clock.seconds[generation])
            runs.add_metric([str(generation)], clock.collections[generation])
        yield seconds
        yield runs

    def _auth(self) -> Iterator[Metric]:
        limiter = self.ctx.auth_failures
        if limiter is None:
            return
        yield CounterMetricFamily(
            "squirrel_auth_failures", "Requests with an unknown or revoked API key", value=limiter.failures
        )
        yield CounterMetricFamily(
            "squirrel_auth_rate_limited",
            "Failed key attempts answered 429 (more than 20/s, burst 50, from one address)",
            value=limiter.limited,
        )
        yield GaugeMetricFamily(
            "squirrel_auth_limited_addresses", "Client addresses with recent failed key attempts", value=len(limiter)
        )


def _circuit(item: Any) -> tuple[str, str]:
    if isinstance(item, dict):
        return str(item.get("name", "")), str(item.get("state", ""))
    return str(getattr(item, "name", "")), str(getattr(item, "state", ""))


def render(ctx: ServiceContext) -> bytes:
    """The Prometheus text exposition for this app (its own registry, never the process-global one)."""
    registry = ctx.metrics_registry
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SquirrelCollector(ctx))
        ctx.metrics_registry = registry
    return generate_latest(registry)
