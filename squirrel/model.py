"""msgspec Structs shared across layers. Wire names are camelCase (rename="camel")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

Scope = Literal["read", "write", "restore", "admin"]
# A PostgreSQL integer: binary COPY would wrap a larger Python int silently, so bound it at the edge.
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
SCOPES: tuple[Scope, ...] = ("read", "write", "restore", "admin")


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the API key's name and its effective scopes (implications expanded)."""

    name: str
    scopes: frozenset[str]
    key_id: UUID | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def expand_scopes(scopes: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    """write and restore imply read; admin implies everything."""
    out = set(scopes)
    if "admin" in out:
        out.update(SCOPES)
    if out & {"write", "restore"}:
        out.add("read")
    return frozenset(out)


class ApiKey(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    app_name: str
    scopes: list[str]
    read_access: bool
    write_access: bool
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None = None
    token: str | None = None


class AuditEntry(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    at: datetime
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    summary: str


# --- PV registry and tags ------------------------------------------------------------------------


class TagRef(msgspec.Struct, rename="camel", kw_only=True):
    """A tag as carried on a PV: the tag and its group."""

    id: UUID
    name: str
    description: str | None
    group_id: UUID
    group_name: str


class PVElementDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    setpoint_address: str | None
    readback_address: str | None
    config_address: str | None
    device: str | None
    description: str | None
    abs_tolerance: float
    rel_tolerance: float
    read_only: bool
    restore_order: int
    put_completion: bool
    tags: list[TagRef]
    created_date: datetime
    last_modified_date: datetime
    created_by: str | None
    last_modified_by: str | None


class NewPVElementDTO(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """A PV to create (POST /v1/pvs, each element of /v1/pvs/multi, each item of the JSON export)."""

    setpoint_address: str | None = None
    readback_address: str | None = None
    config_address: str | None = None
    device: str | None = None
    description: str | None = None
    abs_tolerance: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    rel_tolerance: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    read_only: bool = False
    restore_order: Int32 = 0
    put_completion: bool = True
    tags: list[UUID] = msgspec.field(default_factory=list)


class UpdatePVElementDTO(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Partial update: absent fields are kept; null clears an optional field; tags replaces the set."""

    setpoint_address: str | msgspec.UnsetType | None = msgspec.UNSET
    readback_address: str | msgspec.UnsetType | None = msgspec.UNSET
    config_address: str | msgspec.UnsetType | None = msgspec.UNSET
    device: str | msgspec.UnsetType | None = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    abs_tolerance: Annotated[float, msgspec.Meta(ge=0)] | msgspec.UnsetType = msgspec.UNSET
    rel_tolerance: Annotated[float, msgspec.Meta(ge=0)] | msgspec.UnsetType = msgspec.UNSET
    read_only: bool | msgspec.UnsetType = msgspec.UNSET
    restore_order: Int32 | msgspec.UnsetType = msgspec.UNSET
    put_completion: bool | msgspec.UnsetType = msgspec.UNSET
    tags: list[UUID] | msgspec.UnsetType = msgspec.UNSET


class PVPage(msgspec.Struct, rename="camel", kw_only=True):
    results: list[PVElementDTO]
    continuation_token: str | None
    total_count: int


class PVSearchResult(msgspec.Struct, rename="camel", kw_only=True):
    results: list[PVElementDTO]
    total_count: int
    limit: int
    offset: int
    # Live-cache entries (snake_case, as the live routes) by address; only with include_live_values.
    live_values: dict[str, Any] | None = None
    live_values_error: str | None = None


class PVImportResult(msgspec.Struct, rename="camel", kw_only=True):
    created_count: int
    groups_created: int
    tags_created: int
    ids: list[UUID]


class DeletedDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    deleted: bool = True


class TagDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    description: str | None
    group_id: UUID
    created_date: datetime
    last_modified_date: datetime


class TagGroupSummaryDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    description: str | None
    tag_count: int


class TagGroupDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    description: str | None
    tags: list[TagDTO]
    created_date: datetime
    last_modified_date: datetime


class NameDescriptionBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Create body of a tag group or a tag."""

    name: str
    description: str | None = None


class NameDescriptionPatch(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Partial update of a tag group or a tag (absent = kept)."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET


class AddTagResult(msgspec.Struct, rename="camel", kw_only=True):
    group: TagGroupDTO
    was_created: bool


class BulkTagsBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    groups: dict[str, list[str]]


class BulkTagsResult(msgspec.Struct, rename="camel", kw_only=True):
    groups_created: int
    tags_created: int
    tags_skipped: int
    warnings: list[str]


class TagGroupDeleted(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    deleted: bool
    tags_removed: int
    pv_links_removed: int


# --- Restore (services/restore.py) ----------------------------------------------------------------


class RestoreRequest(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/snapshots/{id}/restore. pvIds absent = every PV of the snapshot."""

    pv_ids: list[UUID] | None = None
    skip_equal: bool = False
    verify: bool = False
    backup: bool = True
    force: bool = False
    # Restore even when the backup lacks a value for some PV it writes (the restore is then not undoable).
    allow_incomplete_backup: bool = False


class RestorePlanItem(msgspec.Struct, rename="camel", kw_only=True):
    pv_id: UUID
    pv_name: str
    action: str  # write equal read_only disconnected no_value not_in_registry out_of_limits
    current_value: Any
    target_value: Any
    reason: str | None = None  # why a PV is disconnected ("circuit open", "timeout", ...)


class RestorePlan(msgspec.Struct, rename="camel", kw_only=True):
    snapshot_id: UUID
    counts: dict[str, int]
    items: list[RestorePlanItem]


class RestoreResultItem(msgspec.Struct, rename="camel", kw_only=True):
    pv_id: UUID
    pv_name: str
    outcome: str  # written verified mismatch equal read_only disconnected timeout failed ...
    error: str | None = None


class RestoreResult(msgspec.Struct, rename="camel", kw_only=True):
    total_pvs: int = msgspec.field(name="totalPVs")
    success_count: int  # written + verified + equal
    failure_count: int  # mismatch + disconnected + timeout + failed + out_of_limits
    changed_count: int  # PVs written whose live value differed from the target
    backup_snapshot_id: UUID | None
    counts: dict[str, int]
    items: list[RestoreResultItem]


# --- snapshots, compare, jobs, schedules ----------------------------------------------------------


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


class PVValueDTO(msgspec.Struct, rename="camel", kw_only=True):
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


class JobDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    type: str
    status: str
    progress: int
    message: str
    result_id: UUID | None
    error: str | None
    job_data: dict[str, Any]
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    created_by: str
    attempt: int
    warnings: list[str] = msgspec.field(default_factory=list)  # [] when the job did all it was asked


class JobQueued(msgspec.Struct, rename="camel", kw_only=True):
    job_id: UUID
    message: str


class ScheduleDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    cron: str
    timezone: str
    title: str
    description: str | None
    pv_ids: list[UUID] | None
    tags: list[UUID] | None
    use_cache: bool
    enabled: bool
    last_run_at: datetime | None
    next_run_at: datetime | None


class NewScheduleBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    name: str
    cron: str
    title: str
    timezone: str = "UTC"
    description: str | None = None
    pv_ids: list[UUID] | None = None
    tags: list[UUID] | None = None
    use_cache: bool = True
    enabled: bool = True


class UpdateScheduleBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    cron: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    pv_ids: list[UUID] | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[UUID] | msgspec.UnsetType | None = msgspec.UNSET
    use_cache: bool | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
