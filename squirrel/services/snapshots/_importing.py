"""The snapshot CSV (Phoebus save-and-restore columns): rows from stored values, and stored values back
from rows. Pure functions, no I/O.

One row per PV: PV (the setpoint address, or the readback address of a readback-only PV), SELECTED,
TIMESTAMP (UTC, nanoseconds), STATUS, SEVERITY, VALUE_TYPE, VALUE, READBACK, READBACK_VALUE, DELTA,
READ_ONLY. What the CSV cannot carry, and an import therefore does not restore:
- the snapshot's id, title, description, labels and time (an import takes its title from `?title=`);
- PV ids (an import finds them in the registry by channel key: `ca://FOO` is FOO, a bare name takes
  SQUIRREL_DEFAULT_PROTOCOL; unknown addresses get a stable id, a name registered only under the other
  protocol is refused);
- units, precision, control limits, enum labels (an enum's index is recovered from the live cache when
  the address is monitored), the connection flag, the value's age;
- the readback's own time and alarm: the row's TIMESTAMP, STATUS and SEVERITY apply to both sides, and
  the readback's value is read with the row's VALUE_TYPE;
- array elements are written `[a, b, c]`: a string-array element containing ", " or a char waveform
  whose text looks like `[1, 2]` does not come back as it was;
- DELTA and READ_ONLY are derived (the registry decides read-only) and ignored on import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from squirrel import addresses
from squirrel.errors import ValidationError
from squirrel.pv import FLOAT_TYPES, INTEGER_TYPES, SEVERITY_NAMES, StoredSide, parse_float, to_wire
from squirrel.services.snapshots.codec import ns_to_datetime
from squirrel.services.snapshots.read import StoredPV

COLUMNS = (
    "PV", "SELECTED", "TIMESTAMP", "STATUS", "SEVERITY", "VALUE_TYPE", "VALUE",
    "READBACK", "READBACK_VALUE", "DELTA", "READ_ONLY",
)  # fmt: skip
REQUIRED = ("PV", "VALUE_TYPE", "VALUE")
_INT_TYPES = INTEGER_TYPES | {"boolean"}


# --- export -----------------------------------------------------------------------------------------
def value_text(side: StoredSide | None) -> str:
    if side is None or not side.has_value:
        return ""
    value = to_wire(side.value)
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "" if value is None else str(value)


def timestamp_text(ns: int | None) -> str:
    ts = ns_to_datetime(ns)
    if ts is None or ns is None:
        return ""
    return ts.strftime("%Y-%m-%d %H:%M:%S.") + f"{ns % 1_000_000_000:09d}"


def type_text(value_type: str | None) -> str:
    return (value_type or "").replace("[]", "_array").upper()


def _delta(sp: StoredSide | None, rb: StoredSide | None) -> str:
    if sp is None or rb is None:
        return ""
    a, b = sp.value, rb.value
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return str(to_wire(float(a) - float(b)))
    return ""


def row(v: StoredPV, read_only: bool) -> list[str]:
    sp, rb = v.setpoint, v.readback
    main = sp or rb
    severity = main.severity if main is not None else 3
    return [
        v.setpoint_name or v.readback_name or "",
        "1",
        timestamp_text(main.timestamp_ns if main is not None else None),
        main.status if main is not None else "UDF",
        SEVERITY_NAMES[severity] if 0 <= severity < len(SEVERITY_NAMES) else str(severity),
        type_text(main.type if main is not None else None),
        value_text(sp),
        v.readback_name or "",
        value_text(rb),
        _delta(sp, rb),
        "true" if read_only else "false",
    ]


def write(values: list[StoredPV], read_only: Callable[[StoredPV], bool]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for v in values:
        writer.writerow(row(v, read_only(v)))
    return out.getvalue().encode()


# --- import -----------------------------------------------------------------------------------------
class CsvPV(msgspec.Struct, gc=False):
    """One parsed row: addresses and both sides (PV ids are found later, by address)."""

    line: int
    setpoint_name: str | None
    readback_name: str | None
    setpoint: StoredSide | None
    readback: StoredSide | None


def _type(text: str, line: int) -> str | None:
    if not text:
        return None
    base = text.strip().lower()
    is_array = base.endswith("_array")
    base = base.removesuffix("_array")
    if base not in _INT_TYPES | FLOAT_TYPES | {"string", "enum"}:
        raise ValidationError(f"CSV line {line}: VALUE_TYPE {text!r} is not a known type (e.g. DOUBLE, ENUM)")
    return base + ("[]" if is_array else "")


def _scalar(text: str, base: str) -> Any:
    if base in FLOAT_TYPES:
        return parse_float(text)
    if base in _INT_TYPES:
        return int(text)
    return text


def _value(text: str, value_type: str | None, line: int, column: str) -> Any:
    base = (value_type or "string").removesuffix("[]")
    try:
        if value_type is not None and value_type.endswith("[]"):
            inner = text.strip()
            if inner.startswith("[") and inner.endswith("]"):
                body = inner[1:-1].strip()
                return [_scalar(e.strip(), base) for e in body.split(", ")] if body else []
            if base != "char":
                raise ValueError("an array is written [a, b, c]")
            return text  # a char waveform kept as its text
        return _scalar(text, base)
    except ValueError as exc:
        raise ValidationError(f"CSV line {line}: {column} {text!r} is not a {value_type} value ({exc})") from None


def _timestamp(text: str, line: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    day, _, fraction = text.replace("T", " ").removesuffix("Z").partition(".")
    try:
        whole = datetime.strptime(day, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        if fraction and not fraction.isdigit():
            raise ValueError("the fraction of a second must be digits")
    except ValueError:
        raise ValidationError(
            f"CSV line {line}: TIMESTAMP {text!r} is not 'YYYY-MM-DD HH:MM:SS.nnnnnnnnn' (UTC)"
        ) from None
    return int(whole.timestamp()) * 1_000_000_000 + int((fraction + "000000000")[:9] or 0)


def _severity(text: str, line: int) -> int:
    text = text.strip().upper()
    if text in SEVERITY_NAMES:
        return SEVERITY_NAMES.index(text)
    if text.isdigit():
        return int(text)
    raise ValidationError(f"CSV line {line}: SEVERITY {text!r} is not one of {', '.join(SEVERITY_NAMES)}")


def parse(text: str, enum_labels: Callable[[str], list[str] | None], default: addresses.Protocol = "ca") -> list[CsvPV]:
    """The rows of a snapshot CSV, addresses as channel keys (bare names take `default`). `enum_labels(key)`
    gives an enum's labels when known (its index is not in the CSV). Raises ValidationError naming the line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[CsvPV] = []
    seen: dict[str, int] = {}
    try:
        header = [c.strip().upper() for c in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ValidationError(
                f"the CSV header lacks {', '.join(missing)} (a snapshot CSV has the columns {', '.join(COLUMNS)})"
            )
        col = {name: i for i, name in enumerate(header)}
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            line = reader.line_num

            def cell(name: str, cells: list[str] = cells) -> str:
                i = col.get(name)
                return cells[i] if i is not None and i < len(cells) else ""

            out.append(_row(line, cell, seen, enum_labels, default))
    except csv.Error as exc:
        raise ValidationError(f"CSV line {reader.line_num}: {exc}") from None
    return out


def _row(
    line: int,
    cell: Callable[[str], str],
    seen: dict[str, int],
    enum_labels: Callable[[str], list[str] | None],
    default: addresses.Protocol,
) -> CsvPV:
    name, rb_name = cell("PV").strip(), cell("READBACK").strip() or None
    if not name:
        raise ValidationError(f"CSV line {line}: PV is empty")
    name = addresses.request_key(name, default, f"CSV line {line}: PV")
    rb_name = addresses.request_key(rb_name, default, f"CSV line {line}: READBACK") if rb_name else None
    if name in seen:
        raise ValidationError(f"CSV line {line}: PV {name!r} appears twice (first on line {seen[name]})")
    seen[name] = line
    sp_name = None if name == rb_name else name  # the export writes a readback-only PV as PV = READBACK
    value_type = _type(cell("VALUE_TYPE"), line)
    status = cell("STATUS").strip() or "UDF"
    severity = _severity(cell("SEVERITY") or "INVALID", line)
    ts = _timestamp(cell("TIMESTAMP"), line)

    def side(address: str | None, text: str, column: str) -> StoredSide | None:
        if address is None:
            return None
        if text == "":
            return StoredSide(None, value_type, None, False, status, severity, ts, has_value=False)
        value = _value(text, value_type, line, column)
        enum_index, labels = None, None
        if value_type == "enum":
            labels = enum_labels(address)
            enum_index = labels.index(value) if labels is not None and value in labels else None
        return StoredSide(value, value_type, enum_index, True, status, severity, ts, enum_strings=labels)

    sp = side(sp_name, cell("VALUE"), "VALUE")
    return CsvPV(line, sp_name, rb_name, sp, side(rb_name, cell("READBACK_VALUE"), "READBACK_VALUE"))
