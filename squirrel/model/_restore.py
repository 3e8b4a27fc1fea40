"""Restore (services/restore): the request, the plan and the result. camelCase on the wire."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec


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
