"""The Prometheus exposition read from the running parts at scrape time (cache, circuits, pool, auth)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from squirrel.services import metrics
from squirrel.services.context import ServiceContext
from squirrel.services.keys import KeyService


def _samples(ctx: ServiceContext) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render(ctx).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_an_idle_process_exposes_zeros_and_no_optional_parts(ctx: ServiceContext) -> None:
    samples = _samples(ctx)
    assert _value(samples, "squirrel_pvs") == 0
    assert _value(samples, "squirrel_pv_updates_total") == 0
    assert _value(samples, "squirrel_monitor_alive") == 0
    assert _value(samples, "squirrel_circuits_open") == 0
    assert _value(samples, "squirrel_protocol_pvs", protocol="pva", state="connected") == 0
    names = {name for name, _ in samples}
    # No monitor, broadcaster, Redis bridge or key service in this context: their metrics are absent.
    for absent in ("squirrel_monitor_merged_total", "squirrel_live_clients", "squirrel_redis_connected"):
        assert absent not in names
    assert not any(n.startswith("squirrel_auth_") for n in names)
    assert any(n.startswith("squirrel_db_pool_") for n in names)


async def test_the_cache_is_counted_by_protocol_and_state(ctx: ServiceContext) -> None:
    for address in ("CA:ONE", "CA:TWO", "pva://PVA:ONE"):
        ctx.cache.ensure(address)
    ctx.cache.set_connected("CA:ONE", True, "127.0.0.1:5064")
    ctx.cache.set_connected("pva://PVA:ONE", True, "pva-server")
    samples = _samples(ctx)
    assert (_value(samples, "squirrel_pvs"), _value(samples, "squirrel_pvs_connected")) == (3, 2)
    assert _value(samples, "squirrel_pvs_disconnected") == 1
    assert _value(samples, "squirrel_protocol_pvs", protocol="ca", state="connected") == 1
    assert _value(samples, "squirrel_protocol_pvs", protocol="ca", state="disconnected") == 1
    assert _value(samples, "squirrel_protocol_pvs", protocol="pva", state="connected") == 1
    assert _value(samples, "squirrel_protocol_pvs", protocol="pva", state="disconnected") == 0


async def test_each_circuit_has_one_state_set(ctx: ServiceContext) -> None:
    ctx.breakers.record_failure("ioc-a:5064")
    ctx.breakers.force_open("ioc-a:5064")
    ctx.breakers.record_success("ioc-b:5064")
    samples = _samples(ctx)
    assert _value(samples, "squirrel_circuits_open") == 1
    for server, state in (("ioc-a:5064", "open"), ("ioc-b:5064", "closed")):
        for candidate in ("closed", "half_open", "open"):
            want = 1 if candidate == state else 0
            assert _value(samples, "squirrel_circuit_state", server=server, state=candidate) == want


async def test_auth_failures_appear_once_a_key_service_exists_and_the_registry_is_reused(
    ctx: ServiceContext,
) -> None:
    _samples(ctx)
    registry = ctx.metrics_registry
    assert registry is not None
    keys = KeyService(ctx)
    assert await keys.authenticate("sq_unknown") is None  # authenticate itself counts nothing
    for _ in range(2):  # what the auth middleware records for two refused requests from one address
        keys.failures.fail("10.0.0.7")
    samples = _samples(ctx)
    assert ctx.metrics_registry is registry  # one registry per app, never the process-global one
    assert _value(samples, "squirrel_auth_failures_total") == 2
    assert _value(samples, "squirrel_auth_rate_limited_total") == 0  # far below the burst
    assert _value(samples, "squirrel_auth_limited_addresses") == 1
