"""The PV cache: plain data, dirty tracking, connection bookkeeping."""

from __future__ import annotations

from squirrel.pv import PVCache, PVState


def test_cache_membership_and_dirty_set() -> None:
    cache = PVCache()
    state = cache.ensure("A")
    assert cache.ensure("A") is state and "A" in cache and len(cache) == 1 and cache.get("B") is None
    cache.mark_dirty("A")
    cache.replace(PVState(address="B", value=2.0, connected=True))
    assert cache.drain_dirty() == {"A", "B"} and cache.drain_dirty() == set()
    assert cache.many(["A", "C"]) == {"A": state, "C": None}
    assert sorted(cache.addresses()) == ["A", "B"] and {s.address for s in cache} == {"A", "B"}
    assert cache.counts() == {"total": 2, "connected": 1, "disconnected": 1}
    cache.discard("B")
    assert "B" not in cache and cache.drain_dirty() == set()


def test_set_connected() -> None:
    cache = PVCache()
    state = cache.ensure("A")
    cache.set_connected("A", True, "ioc:5064")
    assert state.connected and state.server == "ioc:5064" and state.connected_at is not None and state.error is None
    state.has_value = True
    cache.set_connected("A", False)
    assert not state.connected and not state.has_value and state.error == "disconnected"
    assert state.server == "ioc:5064"  # kept: the breaker keys on it
    cache.set_connected("unknown", True)  # not monitored: nothing to do
    assert "unknown" not in cache and cache.drain_dirty() == {"A"}


def test_metadata_records() -> None:
    import msgspec
    import pytest

    from squirrel.pv import CtrlMeta

    meta = CtrlMeta(units="mm", precision=3, upper_disp_limit=5.0)
    with pytest.raises(AttributeError):
        meta.units = "m"  # type: ignore[misc]
    assert set(CtrlMeta.__struct_fields__) <= set(PVState.__struct_fields__)  # what apply_meta copies has a slot
    state = PVState(address="A", **msgspec.structs.asdict(meta))
    assert (state.units, state.upper_disp_limit) == ("mm", 5.0)
