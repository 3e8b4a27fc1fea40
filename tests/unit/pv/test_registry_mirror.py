"""The monitor's copy of the registry: applying changed PV ids yields the address difference."""

from __future__ import annotations

import uuid

from squirrel.pv import RegistryMirror, parse_payload

A, B, C = "a", "b", "c"


def test_replace_then_apply_create_update_delete() -> None:
    m = RegistryMirror()
    assert m.replace([("1", "X:SP", "X:RB"), ("2", "Y:SP", None)]) == {"X:SP", "X:RB", "Y:SP"}
    assert m.apply(["3"], [("3", "Z:SP", "Z:RB")]) == ({"Z:SP", "Z:RB"}, set())  # created
    assert m.apply(["2"], [("2", "Y2:SP", None)]) == ({"Y2:SP"}, {"Y:SP"})  # re-addressed
    assert m.apply(["1"], []) == (set(), {"X:SP", "X:RB"})  # deleted (no live row)
    assert m.addresses() == {"Y2:SP", "Z:SP", "Z:RB"} and len(m) == 2


def test_a_shared_readback_stays_until_its_last_pv_goes() -> None:
    m = RegistryMirror()
    m.replace([("1", "P1", "SHARED"), ("2", "P2", "SHARED")])
    assert m.apply(["1"], []) == (set(), {"P1"})
    assert m.apply(["2"], []) == (set(), {"P2", "SHARED"})


def test_an_address_moving_between_pvs_in_one_apply_is_no_change() -> None:
    m = RegistryMirror()
    m.replace([("1", "MOVE", None)])
    assert m.apply(["1", "2"], [("2", "MOVE", None)]) == (set(), set())
    assert m.addresses() == {"MOVE"}


def test_payloads() -> None:
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    assert parse_payload("ids:" + ",".join(ids)) == ids
    assert parse_payload("") == []  # the app's hint beside the triggers' ids
    assert parse_payload("resync") is None
    assert parse_payload("ids:not-a-uuid") is None  # never a failing query: reload instead
    assert parse_payload("something newer") is None
