"""The one wire encoding of a PV value and its one inverse.

`to_wire` makes a native value valid JSON: non-finite floats become the strings "NaN", "Infinity",
"-Infinity" (API.md), also inside lists; everything else passes as it is.

`from_wire` undoes it, for float types only (the value's `type` says a string PV holding "NaN" is a
string). The spelling is decided here once: what we write is exactly the three API strings; what we
read back is any text Python's float() takes, so also "nan", "inf", "-inf", "+Infinity" in any case
(files from other tools) and numeric text ("1.5" in a double). Text that is not a number stays text,
for the CA/PVA layer to refuse with its own message.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from squirrel.pv._records import FLOAT_TYPES


def _finite_or_str(x: float) -> float | str:
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def to_wire(value: Any) -> Any:
    """The value made valid JSON: non-finite floats as "NaN"/"Infinity"/"-Infinity", also inside lists.

    The one place this rule lives: live entries, snapshot DTOs, exports and restore plans all use it."""
    kind = type(value)
    if kind is float:
        return _finite_or_str(value)
    if kind is list and value:
        if type(value[0]) is float:
            # One C-level sum finds any NaN/Inf in a numeric array; only then pay for a per-element pass.
            try:
                if math.isfinite(sum(value)):
                    return value
            except TypeError:
                pass
        elif not any(type(v) is float for v in value):
            return value
        return [_finite_or_str(v) if type(v) is float else v for v in value]
    return value


def _float_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def from_wire(value: Any, value_type: str | None) -> Any:
    """The native value of a wire value of type `value_type`: the inverse of `to_wire`."""
    if value.__class__ is str or value.__class__ is list:
        if (value_type or "").removesuffix("[]") in FLOAT_TYPES:
            if value.__class__ is str:
                return _float_or_text(value)
            return [_float_or_text(v) if v.__class__ is str else v for v in value]
    return value


def parse_float(value: Any) -> float:
    """A float from a number or from text (the spellings `from_wire` reads); anything else raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        number = _float_or_text(value)
        if isinstance(number, float):
            return number
        raise ValueError(f"expected a number, got {value!r}")
    raise ValueError(f"expected a number, got {type(value).__name__}")
