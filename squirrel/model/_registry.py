"""The PV registry: PVs as stored, created, updated, listed, searched, imported (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

# A PostgreSQL integer: binary COPY would wrap a larger Python int silently, so bound it at the edge.
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]


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


class ImportRowError(msgspec.Struct, rename="camel", kw_only=True):
    line: int
    detail: str


class PVImportCheck(msgspec.Struct, rename="camel", kw_only=True):
    """POST /v1/pvs/import?validateOnly=true: valid = the import would succeed now; errors ordered by line."""

    valid: bool
    row_count: int
    error_count: int
    errors: list[ImportRowError]


class DeletedDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    deleted: bool = True


class CacheStatus(msgspec.Struct):
    """The live cache's state for the GUI (GET /v1/pvs/live/status): names are the GUI's own."""

    cachedPvCount: int
    status: str
    error: str | None
