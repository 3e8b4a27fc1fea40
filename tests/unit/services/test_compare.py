"""Pure compare logic: tolerances, NaN, arrays, enums, strings, missing sides, ordering."""

from __future__ import annotations

import math
from uuid import UUID, uuid4

import pytest

from squirrel.pv import ValueOnly
from squirrel.services.compare import Entry, compare, delta, page, sides_equal, values_equal


@pytest.mark.parametrize(
    ("v1", "v2", "abs_tol", "rel_tol", "expected"),
    [
        (1.0, 1.0, 0, 0, True),
        (1.0, 1.0 + 1e-12, 0, 0, False),
        (1.0, 1.05, 0.1, 0, True),
        (1.0, 1.2, 0.1, 0, False),
        (100.0, 101.0, 0, 0.01, True),  # rel × |v1| = 1.0
        (100.0, 101.5, 0, 0.01, False),
        (-100.0, -101.0, 0, 0.01, True),
        (math.nan, math.nan, 0, 0, True),
        (math.nan, 1.0, 1e9, 1e9, False),
        (1.0, math.nan, 1e9, 1e9, False),
        (math.inf, math.inf, 0, 0, True),
        (math.inf, -math.inf, 1e9, 1e9, False),
        (math.inf, 1e308, 1e9, 1e9, False),
        (3, 3.0, 0, 0, True),
        (3, 4, 1, 0, True),
        ([1.0, math.nan], [1.0, math.nan], 0, 0, True),
        ([1.0, 2.0], [1.0, 2.05], 0.1, 0, True),
        ([1.0, 2.0], [1.0, 2.0, 3.0], 1e9, 1e9, False),
        ([1.0, 2.0], [1.0, 3.0], 0, 0, False),
        ("abc", "abc", 0, 0, True),
        ("abc", "abd", 1e9, 1e9, False),
        ("NaN", math.nan, 0, 0, False),
        (None, None, 0, 0, True),
        (None, 1.0, 1e9, 1e9, False),
        (True, 1, 0, 0, True),
    ],
)
def test_values_equal(v1: object, v2: object, abs_tol: float, rel_tol: float, expected: bool) -> None:
    assert values_equal(v1, v2, abs_tol, rel_tol) is expected


def test_enums_compare_by_index_and_exactly() -> None:
    a = ValueOnly("Open", 0)
    assert sides_equal(a, ValueOnly("Open", 0), (1e9, 1e9))
    assert not sides_equal(a, ValueOnly("Closed", 1), (1e9, 1e9))
    # A relabelled state with the same index is the same state.
    assert sides_equal(a, ValueOnly("OPEN", 0), (0, 0))
    assert not sides_equal(a, None, (0, 0)) and sides_equal(None, None, (0, 0))


def _e(name: str, sp: object, rb: object = None, *, rb_present: bool = True) -> Entry:
    return Entry(name, ValueOnly(sp), ValueOnly(rb) if rb_present else None, name, f"{name}:RB" if rb_present else None)


def test_compare_counts_reasons_and_order() -> None:
    ids = [UUID(int=i + 1) for i in range(5)]
    first = {
        ids[0]: _e("B", 1.0, 1.0),
        ids[1]: _e("A", 1.0, 1.0),  # setpoint differs
        ids[2]: _e("C", 2.0, 2.0),  # readback differs
        ids[3]: _e("D", math.nan, math.nan),  # equal (NaN)
    }
    second = {
        ids[0]: _e("B", 1.0, 1.0),
        ids[1]: _e("A", 1.5, 1.0),
        ids[2]: _e("C", 2.0, 9.0),
        ids[3]: _e("D", math.nan, math.nan),
        ids[4]: _e("E", 5.0, 5.0),  # only in second
    }
    diffs, matches = compare(first, second, {})
    assert matches == 2
    assert [(d.pv_name, d.side, d.address, d.reason) for d in diffs] == [
        ("A", "setpoint", "A", "setpoint"),
        ("C", "readback", "C:RB", "readback"),  # a readback difference names the readback's address
        ("E", "setpoint", "E", "missing"),
    ]
    assert diffs[0].value1 == 1.0 and diffs[0].value2 == 1.5 and diffs[0].within_tolerance is False
    assert diffs[0].delta == 0.5 and diffs[1].delta == 7.0 and diffs[2].delta is None
    assert diffs[2].value1 is None and diffs[2].value2 == 5.0
    # Per-PV tolerance, then the request override (which wins).
    diffs, matches = compare(first, second, {ids[1]: (0.6, 0.0)})
    assert [d.pv_name for d in diffs] == ["C", "E"] and matches == 3
    diffs, _ = compare(first, second, {ids[1]: (0.6, 0.0)}, (0.0, None))
    assert [d.pv_name for d in diffs] == ["A", "C", "E"]
    diffs, _ = compare(first, second, {}, (10.0, None))
    assert [d.pv_name for d in diffs] == ["E"]


def test_compare_missing_in_second_and_nan_shown_as_string() -> None:
    pv = uuid4()
    diffs, matches = compare({pv: _e("X", math.nan)}, {}, {})
    assert matches == 0 and diffs[0].reason == "missing" and diffs[0].value1 == "NaN" and diffs[0].value2 is None


def test_live_compare_disconnected_and_readback_rule() -> None:
    a, b = uuid4(), uuid4()
    stored = {a: _e("A", 1.0, 1.0), b: _e("B", 1.0, rb_present=False)}
    live = {
        a: Entry("A", ValueOnly(None, None, False), ValueOnly(1.0)),
        b: Entry("B", ValueOnly(1.0), ValueOnly(7.0)),
    }
    diffs, matches = compare(stored, live, {}, live=True)
    # B: the snapshot stored no readback, so the live readback is not compared.
    assert matches == 1 and [(d.pv_name, d.reason) for d in diffs] == [("A", "disconnected")]


def test_both_sides_differ_each_its_own_difference_ordered_by_name_then_side() -> None:
    a, b = UUID(int=1), UUID(int=2)
    first = {a: _e("B", 1.0, 1.0), b: _e("A", 1.0, 1.0)}
    second = {a: _e("B", 2.0, 1.5), b: _e("A", 1.0, 0.5)}
    diffs, matches = compare(first, second, {})
    assert matches == 0
    assert [(d.pv_name, d.side, d.address, d.delta) for d in diffs] == [
        ("A", "readback", "A:RB", -0.5),
        ("B", "setpoint", "B", 1.0),
        ("B", "readback", "B:RB", 0.5),
    ]
    # The PV's tolerance applies to the readback as well: noise within it is no difference.
    diffs, matches = compare(first, second, {a: (0.6, 0.0), b: (0.6, 0.0)})
    assert [(d.pv_name, d.side) for d in diffs] == [("B", "setpoint")] and matches == 1


def test_delta_only_for_numeric_scalars() -> None:
    assert delta(ValueOnly(3), ValueOnly(5)) == 2
    assert delta(ValueOnly(1.0), ValueOnly(0.25)) == -0.75
    assert delta(ValueOnly("a"), ValueOnly("b")) is None
    assert delta(ValueOnly("Open", 0), ValueOnly("Closed", 1)) is None  # enums: no arithmetic
    assert delta(ValueOnly([1.0]), ValueOnly([2.0])) is None
    assert delta(ValueOnly(1.0), ValueOnly(math.nan)) is None  # not a JSON number
    assert delta(ValueOnly(1.0), ValueOnly(math.inf)) is None
    assert delta(ValueOnly(True), ValueOnly(False)) is None
    assert delta(None, ValueOnly(1.0)) is None


def test_page_filters_by_side_and_counts_before_paging() -> None:
    ids = [UUID(int=i + 1) for i in range(3)]
    first = {ids[i]: _e(f"P{i}", 1.0, 1.0) for i in range(3)}
    second = {ids[i]: _e(f"P{i}", 2.0, 2.0) for i in range(3)}
    diffs, _ = compare(first, second, {})
    assert len(diffs) == 6
    shown, matched = page(diffs, "readback", 2, 1)
    assert matched == 3 and [(d.pv_name, d.side) for d in shown] == [("P1", "readback"), ("P2", "readback")]
    shown, matched = page(diffs, None, None, 4)
    assert matched == 6 and [(d.pv_name, d.side) for d in shown] == [("P2", "setpoint"), ("P2", "readback")]
    assert page(diffs, "setpoint", 10, 5) == ([], 3)
