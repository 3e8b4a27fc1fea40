"""One side (setpoint or readback) of a stored PV value: the field list, declared once, and every shape
built from it.

- `StoredSide`: the stored form, a compact msgpack array in declaration order (floats stay float64, so
  NaN/±Inf and every bit of a double survive; the EPICS timestamp is integer nanoseconds).
- `ValueOnly`: what compare needs, stored beside the full side as msgpack [value, enum_index]: equal
  bytes mean equal values.
- `ExportSide`: the same fields as a camelCase JSON object, values in wire form (the export file).
- `model.EpicsValueDTO`: the HTTP shape, built from a StoredSide by `epics_value`.

The builders that feed these positionally are generated from the declarations (see _project), so a
field added to `SideFields` reaches every shape, and a shape asking for a field nobody has fails at
import. Every struct here is gc=False: a 50K-PV snapshot builds 100K of them and holds no cycles.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import msgspec

from squirrel.model import EpicsValueDTO
from squirrel.pv._project import builder
from squirrel.pv._records import PVState
from squirrel.pv._wire import from_wire, to_wire


class SideFields(msgspec.Struct, rename="camel", gc=False):
    """THE field list of a stored side, in stored order (append only: stored rows are arrays). `value`
    is native: floats stay floats (NaN included), enums hold the label. The camelCase names are the
    export's (msgspec fixes a field's name where it is declared); the stored array has none."""

    value: Any
    type: str | None
    enum_index: int | None = None
    connected: bool = False
    status: str = "UDF"
    severity: int = 3
    timestamp_ns: int | None = None
    units: str | None = None
    precision: int | None = None
    upper_ctrl_limit: float | None = None
    lower_ctrl_limit: float | None = None
    enum_strings: list[str] | None = None
    age_seconds: float | None = None  # how old the cached value was when taken
    has_value: bool = True
    alarm_message: str | None = None  # PVA alarm.message (CA has none); older rows lack it


class StoredSide(SideFields, array_like=True, gc=False):
    """A side as stored: a msgpack array of the SideFields."""


class ExportSide(SideFields, gc=False):
    """A side in the export file: the SideFields as a camelCase object, WIRE_FORM fields through to_wire."""

    # to_wire may make these "NaN"/"Infinity" strings: the export accepts them back.
    upper_ctrl_limit: Any = None
    lower_ctrl_limit: Any = None


class ValueOnly(msgspec.Struct, array_like=True, gc=False):
    """What compare needs of one side: stored as [value, enum_index] (VALUE_ONLY). `connected` matters
    for live sides only and is not stored."""

    value: Any
    enum_index: int | None = None
    connected: bool = True


FIELDS: tuple[str, ...] = SideFields.__struct_fields__
VALUE_ONLY: tuple[str, ...] = ("value", "enum_index")
WIRE_FORM = ("value", "upper_ctrl_limit", "lower_ctrl_limit")  # what to_wire / from_wire convert
if ValueOnly.__struct_fields__[: len(VALUE_ONLY)] != VALUE_ONLY or not set(VALUE_ONLY) <= set(FIELDS):
    raise TypeError("ValueOnly must start with the stored VALUE_ONLY fields")

Encoded = tuple[bytes, bytes]  # (full side, value-only side)
_encoder = msgspec.msgpack.Encoder()
_encode = _encoder.encode
encode_into = _encoder.encode_into
decode_side = msgspec.msgpack.Decoder(StoredSide).decode
decode_value_only = msgspec.msgpack.Decoder(ValueOnly).decode
_value_only = attrgetter(*VALUE_ONLY)
VALUE_ONLY_AT = tuple(FIELDS.index(f) for f in VALUE_ONLY)  # where a full row holds them

# PVState -> the stored row (a tuple msgpack encodes like a StoredSide). `now` (epoch s, or None)
# dates the value for age_seconds; a state without ns keeps its float timestamp's.
state_row = builder(
    "state_row",
    FIELDS,
    source=PVState.__struct_fields__,
    params=("now",),
    exprs={
        "timestamp_ns": "src.timestamp_ns if src.timestamp_ns is not None or src.timestamp is None"
        " else int(src.timestamp * 1e9)",
        "age_seconds": "None if now is None or src.updated_at is None else now - src.updated_at",
    },
)

# StoredSide -> model.EpicsValueDTO, positionally: `value` already in wire form, `timestamp` a datetime.
epics_value = builder(
    "epics_value",
    EpicsValueDTO.__struct_fields__,
    source=FIELDS,
    params=("value", "timestamp"),
    exprs={"value": "value", "timestamp": "timestamp"},
    target=EpicsValueDTO,
)

_WIRE_AT = tuple(FIELDS.index(f) for f in WIRE_FORM)
_VALUE_AT, _TYPE_AT = FIELDS.index("value"), FIELDS.index("type")


def encode_side(side: StoredSide) -> Encoded:
    """Both stored columns of a side: the full array and the value-only array."""
    return _encode(side), _encode(_value_only(side))


def export_side(side: StoredSide) -> ExportSide:
    """The side as the export file writes it: every field, WIRE_FORM ones through to_wire."""
    fields = list(msgspec.structs.astuple(side))
    for i in _WIRE_AT:
        fields[i] = to_wire(fields[i])
    return ExportSide(*fields)


def import_side(side: ExportSide) -> StoredSide:
    """The inverse of export_side: the value by its type, the limits as doubles."""
    fields = list(msgspec.structs.astuple(side))
    for i in _WIRE_AT:
        fields[i] = from_wire(fields[i], fields[_TYPE_AT] if i == _VALUE_AT else "double")
    return StoredSide(*fields)
