"""Snapshots, their stored values, and the compare of two sides. camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

# Runtime imports, not TYPE_CHECKING ones: msgspec resolves the annotations in this module's namespace.
from squirrel.model._registry import TagRef


class EpicsValueDTO(msgspec.Struct, rename="camel", gc=False):
    """One side (setpoint or readback) of a stored value; non-finite floats are "NaN"/"Infinity"/"-Infinity".

    Positional and untracked by the GC: the snapshot GET builds 100K of them (squirrel.pv.epics_value)."""

    value: Any
    type: str | None
    status: str
    severity: int
    timestamp: datetime | None
    units: str | None
    precision: int | None
    upper_ctrl_limit: float | None = msgspec.field(name="upper_ctrl_limit")
    lower_ctrl_limit: float | None = msgspec.field(name="lower_ctrl_limit")
    connected: bool
    enum_index: int | None = None
    enum_strings: list[str] | None = msgspec.field(default=None, name="enum_strings")
    age_seconds: float | None = None
    timestamp_ns: int | None = None  # the EPICS timestamp with full nanosecond precision
    alarm_message: str | None = None  # PVA alarm message (None for CA)


class PVValueDTO(msgspec.Struct, rename="camel"):
    # Positional: the snapshot read path builds 50K of these per GET (services.snapshots.read.WireValue).
    pv_id: UUID
    pv_name: str
    setpoint_name: str | None
    readback_name: str | None
    setpoint_value: EpicsValueDTO | None
    readback_value: EpicsValueDTO | None
    status: str
    severity: int
    timestamp: datetime | None
    tags: list[TagRef]
    # The PV's registry tolerances, the ones compare and `differentFromLive` apply (0 and 0: exact).
    abs_tolerance: float = 0.0
    rel_tolerance: float = 0.0


class MissingDTO(msgspec.Struct, rename="camel", kw_only=True):
    """Why PVs of a snapshot have no value: disconnected = no connection at capture; no_value = connected
    but no value received; stale = values older than SQUIRREL_STALE_MAX_AGE (they have one: not missing)."""

    disconnected: int = 0
    no_value: int = 0
    stale: int = 0


class SnapshotHeaderDTO(msgspec.Struct, rename="camel", kw_only=True):
    """What identifies a stored snapshot (an export's header carries exactly this)."""

    id: UUID
    title: str
    description: str | None
    comment: str | None
    labels: list[str]
    created_date: datetime
    created_by: str
    pv_count: int
    source: str


class SnapshotSummaryDTO(SnapshotHeaderDTO, kw_only=True):
    """The header and what the snapshot holds: how many PVs were saved without a value, and why."""

    missing_count: int = 0  # PVs whose setpoint or readback was saved without a value
    missing: MissingDTO = msgspec.field(default_factory=MissingDTO)


class SnapshotDTO(SnapshotSummaryDTO, kw_only=True):
    pv_values: list[PVValueDTO]


class NewSnapshotBody(msgspec.Struct, rename="camel", kw_only=True):
    title: str
    description: str | None = None
    comment: str | None = None
    pv_ids: list[UUID] | None = None
    tags: list[UUID] | None = None
    labels: list[str] | None = None


class UpdateSnapshotBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Partial update: absent fields are kept."""

    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    comment: str | msgspec.UnsetType | None = msgspec.UNSET
    labels: list[str] | msgspec.UnsetType = msgspec.UNSET


class CompareDifferenceDTO(msgspec.Struct, rename="camel", kw_only=True):
    """One side (setpoint or readback) of one PV that differs; a PV may have both."""

    pv_id: UUID
    pv_name: str
    side: Literal["setpoint", "readback"]
    address: str  # the address this side concerns (the readback's own address for a readback)
    value1: Any
    value2: Any
    delta: int | float | None = None  # value2 − value1 for numeric scalars
    within_tolerance: bool = False
    # missing (one side only), disconnected (live: no value), setpoint, readback (which side differs)
    reason: str | None = None


class CompareResultDTO(msgspec.Struct, rename="camel", kw_only=True):
    snapshot1_id: UUID
    snapshot2_id: str
    differences: list[CompareDifferenceDTO]
    match_count: int  # PVs whose setpoint and readback both match
    difference_count: int  # every difference, whatever the side filter and page
    matched_count: int  # differences on the requested side (all sides without `side`), before paging
