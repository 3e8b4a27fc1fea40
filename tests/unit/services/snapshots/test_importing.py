"""The snapshot CSV both ways, without a database: what it carries comes back, what it cannot is documented."""

from __future__ import annotations

import math
from typing import Any
from uuid import uuid4

import pytest

from squirrel.errors import ValidationError
from squirrel.pv import StoredSide
from squirrel.services.snapshots import _importing as snapshot_csv
from squirrel.services.snapshots._dedupe import digest
from squirrel.services.snapshots.read import StoredPV

TS = 1_700_000_000_123_456_789


def _pv(name: str, value: Any, type_: str, rb: Any = None, **kw: Any) -> StoredPV:
    side = StoredSide(value, type_, kw.pop("enum_index", None), True, "NO_ALARM", 0, TS, **kw)
    readback = None if rb is None else StoredSide(rb, type_, side.enum_index, True, "NO_ALARM", 0, TS, **kw)
    return StoredPV(
        pv_id=uuid4(), setpoint_name=name, readback_name=None if rb is None else name + ":RB",
        setpoint=side, readback=readback,
    )  # fmt: skip


def test_values_come_back_with_their_types() -> None:
    pvs = [
        _pv("A", math.nan, "double", rb=math.inf),
        _pv("B", 0.1 + 0.2, "double"),
        _pv("C", "Closed", "enum", enum_index=1, enum_strings=["Open", "Closed"]),
        _pv("D", "NaN", "string"),
        _pv("E", [1.5, math.nan, -math.inf], "double[]"),
        _pv("F", -7, "long"),
        _pv("G", "note 5", "char[]"),
        _pv("H", ["a b", "c"], "string[]"),
        _pv("I", [], "short[]"),
    ]
    text = snapshot_csv.write(pvs, lambda v: False).decode()
    back = snapshot_csv.parse(text, lambda address: ["Open", "Closed"] if address == "C" else None)
    assert [r.setpoint_name for r in back] == list("ABCDEFGHI")
    got = {r.setpoint_name: r.setpoint for r in back}
    assert math.isnan(got["A"].value) and back[0].readback.value == math.inf  # type: ignore[union-attr]
    assert got["B"].value == 0.1 + 0.2 and got["C"].value == "Closed" and got["C"].enum_index == 1
    assert got["D"].value == "NaN" and got["D"].type == "string"
    assert got["E"].value[0] == 1.5 and math.isnan(got["E"].value[1]) and got["E"].value[2] == -math.inf
    assert got["F"].value == -7 and got["G"].value == "note 5" and got["H"].value == ["a b", "c"]
    assert got["I"].value == [] and got["I"].type == "short[]"
    assert all(s.timestamp_ns == TS and s.status == "NO_ALARM" and s.severity == 0 for s in got.values())
    # Written again, the rows are the same: so is the duplicate digest of the two.
    assert snapshot_csv.write([_as_stored(r) for r in back], lambda v: False).decode() == text
    assert digest("t", back) == digest("t", pvs) != digest("other title", pvs)


def _as_stored(r: snapshot_csv.CsvPV) -> StoredPV:
    return StoredPV(
        pv_id=uuid4(), setpoint_name=r.setpoint_name, readback_name=r.readback_name,
        setpoint=r.setpoint, readback=r.readback,
    )  # fmt: skip


def test_an_enum_without_known_labels_keeps_its_label_only_and_iso_times_are_read() -> None:
    text = "PV,TIMESTAMP,VALUE_TYPE,VALUE\nE,2024-01-02T03:04:05.5Z,ENUM,Fault\n"
    (row,) = snapshot_csv.parse(text, lambda address: None)
    assert row.setpoint is not None and row.setpoint.value == "Fault" and row.setpoint.enum_index is None
    assert row.setpoint.timestamp_ns == 1_704_164_645_500_000_000
    assert row.setpoint.severity == 3 and row.setpoint.status == "UDF"  # no alarm columns: unknown


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "lacks PV, VALUE_TYPE, VALUE"),
        ("PV,VALUE_TYPE,VALUE\n,DOUBLE,1\n", "line 2: PV is empty"),
        ("PV,VALUE_TYPE,VALUE,SEVERITY\nA,DOUBLE,1,LOUD\n", "line 2: SEVERITY 'LOUD'"),
        ("PV,VALUE_TYPE,VALUE\nA,LONG,1.5\n", "line 2: VALUE '1.5' is not a long value"),
        ("PV,VALUE_TYPE,VALUE,READBACK,READBACK_VALUE\nA,LONG,1,B,x\n", "line 2: READBACK_VALUE 'x'"),
        ("PV,VALUE_TYPE,VALUE,TIMESTAMP\nA,LONG,1,2024-01-02 03:04:05.x\n", "line 2: TIMESTAMP"),
    ],
)
def test_bad_rows_name_their_line(text: str, needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        snapshot_csv.parse(text, lambda address: None)
    assert needle in (err.value.detail or "")
