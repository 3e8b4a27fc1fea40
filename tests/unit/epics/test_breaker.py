"""Circuit breaker state machine (a fake clock; no sockets)."""

from __future__ import annotations

import pytest

from squirrel.epics.breaker import BreakerSet


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def state(b: BreakerSet, name: str) -> str:
    return {s["name"]: s["state"] for s in b.states()}[name]


def test_opens_after_consecutive_failures_half_opens_and_closes() -> None:
    clock = Clock()
    b = BreakerSet(failures=3, cooldown=10, clock=clock)
    b.learn("A:1", "ioc:5064")
    b.record_failure("ioc:5064")
    b.record_success("ioc:5064")  # a success resets the count
    b.record_failure("ioc:5064")
    b.record_failure("ioc:5064")
    assert b.allows_address("A:1") and state(b, "ioc:5064") == "closed"
    b.record_failure("ioc:5064")
    assert not b.allows_address("A:1") and state(b, "ioc:5064") == "open"
    clock.now = 10.5
    assert b.allows_address("A:1") and state(b, "ioc:5064") == "half_open"
    b.record_failure("ioc:5064")  # one failure while half-open re-opens
    assert state(b, "ioc:5064") == "open"
    clock.now = 21
    assert b.allows("ioc:5064")
    b.record_success("ioc:5064")
    assert state(b, "ioc:5064") == "closed"


def test_server_down_forced_states_and_unknowns() -> None:
    clock = Clock()
    b = BreakerSet(failures=3, cooldown=1, clock=clock)
    b.learn("A:1", "ioc:1")
    b.learn("B:1", "<disconnected>")  # libca's placeholder is not a server
    assert b.server_of("B:1") is None and b.allows_address("B:1") and b.allows(None)
    b.server_down("ioc:1")
    assert state(b, "ioc:1") == "open"
    b.server_up("ioc:1")
    assert state(b, "ioc:1") == "closed"
    forced = b.force_open("ioc:1")
    assert forced["forced"] and forced["pv_count"] == 1
    clock.now = 100  # forced open never half-opens by itself, and successes do not close it
    b.record_success("ioc:1")
    assert not b.allows("ioc:1")
    assert b.force_close("ioc:1")["state"] == "closed" and b.open_count() == 0
    with pytest.raises(KeyError):
        b.force_open("nope:1")


def test_pv_counts_follow_addresses_that_move_and_are_forgotten() -> None:
    breakers = BreakerSet()
    for address, server in (("A", "s1"), ("B", "s1"), ("C", "s2"), ("A", "s1"), ("B", "s2")):
        breakers.learn(address, server)  # A twice on one server counts once; B moves to s2
    breakers.learn("D", "<disconnected>")  # not a server
    counts = {s["name"]: s["pv_count"] for s in breakers.states()}
    assert counts == {"s1": 1, "s2": 2}
    breakers.forget("C")
    breakers.forget("nothing")
    assert {s["name"]: s["pv_count"] for s in breakers.states()} == {"s1": 1, "s2": 1}


def test_a_batch_splits_its_addresses_and_learns_their_servers_at_once() -> None:
    clock = Clock()
    b = BreakerSet(failures=1, cooldown=10, clock=clock)
    b.learn_many([("A:1", "ioc:1"), ("A:2", "ioc:1"), ("B:1", "ioc:2"), ("C:1", None), ("D:1", "<disconnected>")])
    assert [b.server_of(a) for a in ("A:1", "B:1", "C:1", "D:1")] == ["ioc:1", "ioc:2", None, None]
    names = ["B:1", "A:1", "C:1", "A:2"]
    assert b.split_allowed(names) == (names, [])  # every breaker closed: all of them, in order
    b.record_failure("ioc:1")
    assert b.split_allowed(names) == (["B:1", "C:1"], ["A:1", "A:2"])  # an unknown server is asked
    b.learn_many([("A:2", "ioc:2")])  # moved: counted on its new server only
    assert b.split_allowed(names) == (["B:1", "C:1", "A:2"], ["A:1"])
    assert {s["name"]: s["pv_count"] for s in b.states()} == {"ioc:1": 1, "ioc:2": 2}
    clock.now = 10.5
    assert b.split_allowed(names) == (names, [])  # the cool-down passed: half-open lets them try
    assert state(b, "ioc:1") == "half_open"
