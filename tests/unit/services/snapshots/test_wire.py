"""The GET body's own struct encodes exactly like the model DTO it stands in for (its sides ARE EpicsValueDTO)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec

from squirrel.model import EpicsValueDTO, PVValueDTO, TagRef
from squirrel.services.snapshots.read import WireValue, text_tolerances


def _layout(cls: type[msgspec.Struct]) -> list[tuple[str, str]]:
    return [(f.name, f.encode_name) for f in msgspec.structs.fields(cls)]


def test_wire_struct_mirrors_the_model_dto() -> None:
    assert _layout(WireValue) == _layout(PVValueDTO)


def test_wire_json_is_the_dto_json() -> None:
    ts = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    side = ("NaN", "double", "NO_ALARM", 0, ts, "mm", 3, 10.0, -10.0, True, None, None, 0.5, 1_767_323_045_678_901_234,
            "HI")  # fmt: skip
    names = [f.name for f in msgspec.structs.fields(EpicsValueDTO)]
    dto_side = EpicsValueDTO(**dict(zip(names, side, strict=True)))
    tag = TagRef(id=uuid4(), name="t", description=None, group_id=uuid4(), group_name="g")
    pv_id = uuid4()
    dto = PVValueDTO(
        pv_id=pv_id, pv_name="A:SP", setpoint_name="A:SP", readback_name=None, setpoint_value=dto_side,
        readback_value=None, status="NO_ALARM", severity=0, timestamp=ts, tags=[tag],
    )  # fmt: skip
    wire = WireValue(str(pv_id), "A:SP", "A:SP", None, EpicsValueDTO(*side), None, "NO_ALARM", 0, ts, [tag])
    assert msgspec.json.encode(wire) == msgspec.json.encode(dto)


def test_text_tolerances_key_the_rows_by_their_text_ids_whichever_side_is_smaller() -> None:
    ids = [uuid4() for _ in range(4)]
    by_key = {ids[0].bytes: (0.5, 0.0), ids[1].bytes: (0.0, 0.1), ids[3].bytes: (1.0, 1.0)}
    rows: list[Any] = [(str(i), "A", None, None, None) for i in ids]
    whole = {str(ids[0]): (0.5, 0.0), str(ids[1]): (0.0, 0.1), str(ids[3]): (1.0, 1.0)}
    assert text_tolerances(by_key, rows) == whole  # fewer tolerances than rows: every key converted
    assert text_tolerances(by_key, rows[1:3]) == {str(ids[1]): (0.0, 0.1)}  # a page: only its rows
    assert text_tolerances({}, rows) == {}
