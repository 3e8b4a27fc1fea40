"""Normative-type Values <-> the cache's state fields, and the put builder.

Supported: NTScalar / NTScalarArray of every scalar type and NTEnum (or any structure whose `value` is
a scalar, a scalar array or an enum_t). Anything else (NTTable, NTNDArray, ...) is `unsupported`:
reported, never flattened. Types use PVA's names (`long` is 64-bit); arrays come back as lists of exact
Python ints/floats/bools/strings.
"""

from __future__ import annotations

from typing import Any

from squirrel.pv import PVA_ALARM_STATUS, PVState, parse_float

TYPE_NAMES = {
    "?": "boolean",
    "b": "byte",
    "B": "ubyte",
    "h": "short",
    "H": "ushort",
    "i": "int",
    "I": "uint",
    "l": "long",
    "L": "ulong",
    "f": "float",
    "d": "double",
    "s": "string",
}
_INT_RANGES = {
    "b": (-(2**7), 2**7 - 1),
    "B": (0, 2**8 - 1),
    "h": (-(2**15), 2**15 - 1),
    "H": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "I": (0, 2**32 - 1),
    "l": (-(2**63), 2**63 - 1),
    "L": (0, 2**64 - 1),
}


class Kind:
    """What one channel's structure is, learnt from its first Value (and again after a reconnect)."""

    __slots__ = (
        "alarm",
        "array",
        "code",
        "control",
        "display",
        "enum",
        "meta_fields",
        "precision",
        "time",
        "type_name",
        "unsupported",
    )

    def __init__(self, value: Any) -> None:
        self.unsupported: str | None = None
        self.enum = self.array = False
        self.code = ""
        self.type_name = ""
        structure = value.type()
        fields = set(structure.keys())
        spec = structure.aspy("value") if "value" in fields else None
        ident = value.getID()
        if isinstance(spec, str) and spec.lstrip("a") in TYPE_NAMES and len(spec) <= 2:
            self.array = spec.startswith("a")
            self.code = spec.lstrip("a")
            self.type_name = TYPE_NAMES[self.code] + ("[]" if self.array else "")
        elif isinstance(spec, tuple) and len(spec) > 1 and spec[1] == "enum_t":
            self.enum, self.type_name = True, "enum"
        else:
            self.unsupported = f"unsupported PVA structure {ident}: only NTScalar, NTScalarArray and NTEnum are stored"
        self.alarm = "alarm" in fields
        self.time = "timeStamp" in fields
        self.display = "display" in fields
        self.control = "control" in fields
        self.precision = self.display and value.has("display.precision")
        self.meta_fields = tuple(f for f in ("display", "control") if f in fields)


def mark_unsupported(state: PVState, kind: Kind) -> None:
    """A structure Squirrel cannot store: no value, and the reason where a snapshot records it as missing."""
    state.value = None
    state.type = None
    state.has_value = False
    state.status = "UNSUPPORTED"
    state.severity = 3
    state.error = kind.unsupported


def apply(state: PVState, v: Any, kind: Kind, meta: bool = True) -> None:
    """Decode one Value into `state` (the monitor's hot path: a few field reads, no dict building).

    `meta` False skips display and control (a monitor update that did not change them)."""
    if kind.enum:
        index = v["value.index"]
        choices = list(v["value.choices"])
        state.enum_index = index
        state.enum_strings = choices
        state.value = choices[index] if 0 <= index < len(choices) else index
    elif kind.array:
        raw = v["value"]
        state.value = raw.tolist() if hasattr(raw, "tolist") else list(raw)
    else:
        state.value = v["value"]
    state.type = kind.type_name
    if kind.alarm:
        severity, status = v["alarm.severity"], v["alarm.status"]
        state.severity = min(max(severity, 0), 3)
        state.status = PVA_ALARM_STATUS[status] if 0 <= status < len(PVA_ALARM_STATUS) else str(status)
        state.alarm_message = v["alarm.message"] or None
    else:
        state.severity, state.status, state.alarm_message = 0, "NONE", None
    if kind.time:
        seconds, nanos = v["timeStamp.secondsPastEpoch"], v["timeStamp.nanoseconds"]
        state.timestamp_ns = seconds * 1_000_000_000 + nanos
        state.timestamp = seconds + nanos / 1e9
    if not meta:
        pass
    elif kind.display:
        state.units = (v["display.units"] or None) if v.has("display.units") else None
        state.lower_disp_limit = v["display.limitLow"] if v.has("display.limitLow") else None
        state.upper_disp_limit = v["display.limitHigh"] if v.has("display.limitHigh") else None
        if kind.precision:
            state.precision = v["display.precision"]
    if meta and kind.control:
        state.lower_ctrl_limit = v["control.limitLow"]
        state.upper_ctrl_limit = v["control.limitHigh"]
    state.has_value = True


def builder(value: Any, kind: Kind | None) -> dict[str, Any]:
    """The fields to put for `value` (p4p assigns them into the server's put structure).

    Enums take an index or a label (the label is looked up in the choices we last saw); numbers are
    range-checked for the PVA type, so a put never wraps silently. Raises ValueError."""
    if kind is None:
        return {"value": value}
    if kind.enum:
        return {"value.index": _enum_index(value)}
    if kind.array:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        return {"value": [_scalar(kind.code, v) for v in items]}
    return {"value": _scalar(kind.code, value)}


def _enum_index(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an enum index or label, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"expected an enum index, got {value!r}")


def _scalar(code: str, value: Any) -> Any:
    if code == "s":
        return value if isinstance(value, str) else str(value)
    if code == "?":
        if isinstance(value, bool):
            return value
        if value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"expected a boolean, got {value!r}")
    if code in ("f", "d"):
        if isinstance(value, int | float | str):
            return parse_float(value)  # refuses bools and non-numeric text
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected an integer, got {value!r}")
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except ValueError:
        number = None
    if number is None:
        raise ValueError(f"expected an integer, got {value!r}")
    low, high = _INT_RANGES[code]
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range for a {TYPE_NAMES[code]} PV")
    return number
