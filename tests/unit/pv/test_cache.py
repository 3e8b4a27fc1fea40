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


def _walked(cache: PVCache) -> dict[str, tuple[int, int]]:
    """The per-protocol counts the slow way, by walking every entry."""
    out = {"ca": [0, 0], "pva": [0, 0]}
    for s in cache:
        out["pva" if s.address.startswith("pva://") else "ca"][0 if s.connected else 1] += 1
    return {p: (c, d) for p, (c, d) in out.items()}


def test_counts_are_kept_through_every_change_without_walking_the_cache() -> None:
    cache = PVCache()
    for address in ("A", "B", "pva://C", "pva://D"):
        cache.ensure(address)
    cache.set_connected("A", True)
    cache.set_connected("A", True)  # no change: counted once
    cache.set_connected("pva://C", True)
    cache.set_connected("B", False)  # already disconnected
    assert cache.protocol_counts() == _walked(cache) == {"ca": (1, 1), "pva": (1, 1)}
    cache.replace(PVState(address="B", connected=True))  # the Redis bridge installs a connected entry
    cache.replace(PVState(address="A", connected=False))  # and a disconnected one over a connected one
    cache.replace(PVState(address="pva://E", connected=True))  # a new one
    assert cache.protocol_counts() == _walked(cache) == {"ca": (1, 1), "pva": (2, 1)}
    cache.discard("B")
    cache.discard("pva://C")
    cache.discard("nothing")
    assert cache.protocol_counts() == _walked(cache) == {"ca": (0, 1), "pva": (1, 1)}
    assert cache.counts() == {"total": 3, "connected": 1, "disconnected": 2}
