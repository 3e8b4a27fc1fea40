"""The stored codec: one field list, every shape built from it, every field round-tripped."""

from __future__ import annotations

import gc
import math
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from squirrel.model import EpicsValueDTO
from squirrel.pv import (
    FIELDS,
    ExportSide,
    PVState,
    SideFields,
    StoredSide,
    ValueOnly,
    builder,
    decode_side,
    decode_value_only,
    encode_side,
    epics_value,
    export_side,
    import_side,
    state_row,
    to_wire,
)


def _full_side(value: Any = math.nan, value_type: str = "double") -> StoredSide:
    """A side with every field set to something other than its default."""
    return StoredSide(
        value=value, type=value_type, enum_index=2, connected=True, status="HIHI", severity=2,
        timestamp_ns=1_767_323_045_678_901_234, units="mm", precision=3, upper_ctrl_limit=math.inf,
        lower_ctrl_limit=-math.inf, enum_strings=["a", "b", "c"], age_seconds=0.25, has_value=False,
        alarm_message="too high",
    )  # fmt: skip


def _fields(side: msgspec.Struct) -> list[Any]:
    """The side's fields in declaration order, NaN made comparable."""
    return [to_wire(v) for v in msgspec.structs.astuple(side)]


def test_every_shape_follows_the_one_declaration() -> None:
    assert StoredSide.__struct_fields__ == ExportSide.__struct_fields__ == FIELDS == SideFields.__struct_fields__
    assert ValueOnly.__struct_fields__[:2] == ("value", "enum_index")
    side = _full_side()
    assert all(getattr(side, f) != getattr(SideFields.__struct_defaults__, f, object()) for f in FIELDS)
    assert not gc.is_tracked(StoredSide([1.0], "double[]")) and not gc.is_tracked(ExportSide([1.0], "double[]"))


@pytest.mark.parametrize(
    ("value", "value_type"),
    [(math.nan, "double"), ([1.0, -math.inf], "double[]"), ("Open", "enum"), ("x", "string"), ([1, 2], "long[]")],
)
def test_stored_codec_round_trips_every_field(value: Any, value_type: str) -> None:
    side = _full_side(value, value_type)
    full, value_only = encode_side(side)
    assert _fields(decode_side(full)) == _fields(side)
    only = decode_value_only(value_only)
    assert (to_wire(only.value), only.enum_index, only.connected) == (to_wire(value), 2, True)


@pytest.mark.parametrize(
    ("value", "value_type"),
    [(math.nan, "double"), ([1.0, math.inf, -math.inf], "double[]"), ("NaN", "string"), ("Off", "enum")],
)
def test_export_side_round_trips_every_field_through_json(value: Any, value_type: str) -> None:
    side = _full_side(value, value_type)
    raw = msgspec.json.encode(export_side(side))
    assert list(msgspec.json.decode(raw)) == [  # the export format (squirrel-snapshot/1) names
        "value", "type", "enumIndex", "connected", "status", "severity", "timestampNs", "units", "precision",
        "upperCtrlLimit", "lowerCtrlLimit", "enumStrings", "ageSeconds", "hasValue", "alarmMessage",
    ]  # fmt: skip
    assert b'"upperCtrlLimit":"Infinity"' in raw
    back = import_side(msgspec.json.decode(raw, type=ExportSide))
    assert isinstance(back, StoredSide) and _fields(back) == _fields(side)
    assert isinstance(back.value, type(value))  # a string PV holding "NaN" stays a string


def test_state_row_is_the_stored_side_of_a_state() -> None:
    state = PVState(
        address="A", value=1.5, type="double", enum_index=None, connected=True, status="NO_ALARM", severity=0,
        timestamp=1.5, timestamp_ns=1_500_000_001, units="V", precision=2, upper_ctrl_limit=10.0,
        lower_ctrl_limit=-10.0, enum_strings=None, updated_at=100.0, has_value=True, alarm_message="m",
    )  # fmt: skip
    row = state_row(state, 100.5)
    side = decode_side(msgspec.msgpack.encode(row))
    expected = {f: getattr(state, f) for f in FIELDS if f != "age_seconds"}
    assert msgspec.structs.asdict(side) == {**expected, "age_seconds": 0.5}
    assert state_row(state, None)[FIELDS.index("age_seconds")] is None
    state.timestamp_ns = None  # a state with only the float time keeps it, in ns
    assert decode_side(msgspec.msgpack.encode(state_row(state, None))).timestamp_ns == 1_500_000_000


def test_epics_value_is_the_dto() -> None:
    side = _full_side([1.0, math.nan], "double[]")
    ts = datetime(2026, 1, 2, tzinfo=UTC)
    dto = epics_value(side, to_wire(side.value), ts)
    assert isinstance(dto, EpicsValueDTO) and dto.value == [1.0, "NaN"] and dto.timestamp == ts
    shared = [f for f in EpicsValueDTO.__struct_fields__ if f not in ("value", "timestamp")]
    assert all(getattr(dto, f) == getattr(side, f) for f in shared)


def test_builder_refuses_a_field_the_source_lacks() -> None:
    class Target(msgspec.Struct):
        value: Any
        novel: int

    with pytest.raises(TypeError, match="novel"):
        builder("b", Target.__struct_fields__, source=FIELDS, target=Target)
    with pytest.raises(TypeError, match="ghost"):
        builder("b", ("value",), source=FIELDS, exprs={"ghost": "1"})
    with pytest.raises(ValueError):
        builder("b", ("value; import os",), source=FIELDS)
