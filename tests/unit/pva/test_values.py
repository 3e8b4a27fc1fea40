"""Decoding real p4p normative-type Values into PVState, and the range-checked put builder (no server)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from p4p import Type, Value
from p4p.nt import NTEnum, NTScalar, NTTable

from squirrel.pv import PVA_ALARM_STATUS as STATUS_NAMES
from squirrel.pv import PVState
from squirrel.pva._values import Kind, apply, builder, mark_unsupported


def _decode(value: Any, meta: bool = True) -> tuple[Kind, PVState]:
    kind = Kind(value)
    state = PVState(address="pva://X")
    apply(state, value, kind, meta)
    return kind, state


def _display_double() -> Any:
    v = NTScalar("d", display=True, control=True, form=True).wrap(1.5, timestamp=1_700_000_000.25)
    v["display.units"] = "mm"
    v["display.limitLow"], v["display.limitHigh"], v["display.precision"] = -1.0, 9.0, 3
    v["control.limitLow"], v["control.limitHigh"] = -0.5, 8.5
    v["alarm.severity"], v["alarm.status"], v["alarm.message"] = 2, 3, "HIHI"
    return v


def test_a_scalar_with_every_part_decodes_value_alarm_time_and_metadata() -> None:
    kind, s = _decode(_display_double())
    assert (kind.type_name, kind.array, kind.enum, kind.unsupported) == ("double", False, False, None)
    assert kind.meta_fields == ("display", "control") and kind.precision
    assert (s.value, s.type, s.has_value) == (1.5, "double", True)
    assert (s.severity, s.status, s.alarm_message) == (2, "RECORD", "HIHI")
    assert s.timestamp_ns == 1_700_000_000_250_000_000 and s.timestamp == 1_700_000_000.25
    assert (s.units, s.lower_disp_limit, s.upper_disp_limit, s.precision) == ("mm", -1.0, 9.0, 3)
    assert (s.lower_ctrl_limit, s.upper_ctrl_limit) == (-0.5, 8.5)


def test_an_update_without_meta_keeps_the_metadata_it_had() -> None:
    v = _display_double()
    kind, s = _decode(v)
    v["value"] = 2.5
    v["display.units"] = "m"
    v["control.limitHigh"] = 100.0
    apply(s, v, kind, meta=False)
    assert s.value == 2.5 and s.units == "mm" and s.upper_ctrl_limit == 8.5


def test_empty_units_and_message_are_none_and_odd_alarms_are_clamped() -> None:
    v = NTScalar("i", display=True).wrap(7)
    v["alarm.severity"], v["alarm.status"] = 9, 42
    _, s = _decode(v)
    assert (s.value, s.type) == (7, "int")
    assert (s.severity, s.status, s.alarm_message, s.units) == (3, "42", None, None)
    assert STATUS_NAMES[0] == "NONE"


def test_a_structure_without_alarm_is_no_alarm() -> None:
    v = Value(Type([("value", "l")]), {"value": 2**40})
    kind, s = _decode(v)
    assert (kind.type_name, kind.alarm, kind.time) == ("long", False, False)
    assert (s.value, s.severity, s.status, s.timestamp) == (2**40, 0, "NONE", None)


@pytest.mark.parametrize(
    ("code", "items", "type_name"),
    [("ad", [1.5, math.inf], "double[]"), ("aB", [0, 255], "ubyte[]"), ("as", ["a", ""], "string[]")],
)
def test_arrays_come_back_as_plain_lists(code: str, items: list[Any], type_name: str) -> None:
    kind, s = _decode(NTScalar(code).wrap(items))
    assert kind.array and s.type == type_name
    assert s.value == items and type(s.value) is list
    assert all(type(x) is type(y) for x, y in zip(s.value, items, strict=True))  # no numpy scalars


def test_an_enum_holds_its_label_index_and_choices() -> None:
    kind, s = _decode(NTEnum().wrap({"index": 1, "choices": ["Off", "On"]}))
    assert kind.enum and kind.type_name == "enum"
    assert (s.value, s.enum_index, s.enum_strings) == ("On", 1, ["Off", "On"])
    _, out_of_range = _decode(NTEnum().wrap({"index": 5, "choices": ["Off", "On"]}))
    assert (out_of_range.value, out_of_range.enum_index) == (5, 5)  # the index when no label exists


def test_other_structures_are_unsupported_with_a_reason() -> None:
    table = NTTable([("a", "i")]).wrap([{"a": 1}])
    kind = Kind(table)
    assert kind.unsupported is not None and "epics:nt/NTTable:1.0" in kind.unsupported
    state = PVState(address="pva://T", value=3, type="int", has_value=True)
    mark_unsupported(state, kind)
    assert (state.value, state.type, state.has_value, state.status, state.severity) == (
        None,
        None,
        False,
        "UNSUPPORTED",
        3,
    )
    assert state.error == kind.unsupported
    assert Kind(Value(Type([("other", "d")]), {})).unsupported is not None  # no value field at all


def test_the_put_builder_checks_the_pva_type() -> None:
    kinds = {code: Kind(NTScalar(code).wrap(0 if code != "s" else "")) for code in ("d", "b", "L", "?", "s")}
    assert builder(3, kinds["d"]) == {"value": 3.0}
    assert builder("2.5", kinds["d"]) == {"value": 2.5}
    assert builder("-128", kinds["b"]) == {"value": -128}
    assert builder(4.0, kinds["b"]) == {"value": 4}
    assert builder(2**64 - 1, kinds["L"]) == {"value": 2**64 - 1}
    assert builder("TRUE", kinds["?"]) == {"value": True}
    assert builder(0, kinds["?"]) == {"value": False}
    assert builder(12, kinds["s"]) == {"value": "12"}
    assert builder([1, 2], None) == {"value": [1, 2]}  # no kind known yet: as given


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("b", 128, "128 is out of range for a byte PV"),
        ("L", -1, "-1 is out of range for a ulong PV"),
        ("i", 1.5, "expected an integer"),
        ("i", "ten", "expected an integer"),
        ("i", True, "expected an integer"),
        ("i", None, "expected an integer"),
        ("?", 2, "expected a boolean"),
        ("d", [1.0], "expected a number"),
    ],
)
def test_the_put_builder_refuses_what_would_wrap_or_lose(code: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        builder(value, Kind(NTScalar(code).wrap(0)))


def test_array_and_enum_puts() -> None:
    array = Kind(NTScalar("ah").wrap([0]))
    assert builder([1, "2", 3.0], array) == {"value": [1, 2, 3]}
    assert builder(5, array) == {"value": [5]}  # a scalar to an array is a one-element array
    with pytest.raises(ValueError, match="out of range for a short"):
        builder([1, 40_000], array)
    enum = Kind(NTEnum().wrap({"index": 0, "choices": ["A", "B"]}))
    assert builder(1, enum) == {"value.index": 1}
    assert builder(" 1 ", enum) == {"value.index": 1}
    for bad in (True, "B", 1.0):
        with pytest.raises(ValueError, match="expected an enum"):
            builder(bad, enum)
