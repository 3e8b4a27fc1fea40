"""The records of one PV: its latest state, its CTRL metadata, and the names its fields hold.

Protocol-neutral: CA (squirrel.epics) and PVA (squirrel.pva) both fill a PVState; everything above
them (snapshots, live, restore, compare) reads one.
"""

from __future__ import annotations

from typing import Any

import msgspec

# Alarm severity names by code: the same four in CA and PVA.
SEVERITY_NAMES = ("NO_ALARM", "MINOR", "MAJOR", "INVALID")

# The IOC alarm condition names (epicsAlarmConditionStrings) by code. CA reports a status by this code;
# the GUI dialect answers a status name with it. PVA has its own names (PVA_ALARM_STATUS).
ALARM_STATUS = (
    "NO_ALARM", "READ", "WRITE", "HIHI", "HIGH", "LOLO", "LOW", "STATE", "COS", "COMM", "TIMEOUT",
    "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT", "BAD_SUB", "UDF", "DISABLE", "SIMM", "READ_ACCESS",
    "WRITE_ACCESS",
)  # fmt: skip
# PVA alarm status names (pvData AlarmStatus), by code. Disjoint from the CA names above, so a stored
# status name alone says which table its code comes from.
PVA_ALARM_STATUS = ("NONE", "DEVICE", "DRIVER", "RECORD", "DB", "CONF", "UNDEFINED", "CLIENT")

# Value type names (PVState.type without "[]"), CA's and PVA's together: CA's `long` is PVA's `int`.
FLOAT_TYPES = frozenset({"double", "float"})
INTEGER_TYPES = frozenset({"long", "short", "char", "int", "byte", "ubyte", "ushort", "uint", "ulong"})


def base_type(value_type: str | None) -> str:
    """The element type of a type name: "double[]" -> "double"; None -> ""."""
    return (value_type or "").removesuffix("[]")


class _Metadata(msgspec.Struct):
    """What CTRL/display metadata says of a channel: a PVState holds it, a CtrlMeta carries it. Enums
    have labels; numeric channels units, precision and limits."""

    enum_strings: list[str] | None = None
    units: str | None = None
    precision: int | None = None
    upper_ctrl_limit: float | None = None
    lower_ctrl_limit: float | None = None
    upper_disp_limit: float | None = None
    lower_disp_limit: float | None = None


class PVState(_Metadata, kw_only=True):
    """Latest known state of one address. `value` is native: floats stay floats (NaN included), enums
    hold the label (index beside it), arrays are lists, char waveforms str."""

    address: str
    value: Any = None
    type: str | None = None  # double float long short char string enum (PVA: its names), [] for arrays
    enum_index: int | None = None
    connected: bool = False
    status: str = "UDF"
    severity: int = 3
    alarm_message: str | None = None  # PVA alarm.message (CA has none)
    timestamp: float | None = None  # EPICS timestamp, epoch seconds
    timestamp_ns: int | None = None  # the same with full nanosecond precision
    updated_at: float | None = None  # when we last heard of it (value or connection), epoch seconds
    connected_at: float | None = None
    has_value: bool = False  # a value arrived since the last (re)connect
    server: str | None = None  # CA server host:port of the circuit, as libca reports it (PVA: its circuit key)
    error: str | None = None
    update_count: int = 0


# msgspec lets a frozen Struct extend a mutable one; mypy applies the dataclasses rule that forbids it.
class CtrlMeta(_Metadata, frozen=True):  # type: ignore[misc]
    """The CTRL metadata of a channel (once per connection): what a direct read copies into each state."""
