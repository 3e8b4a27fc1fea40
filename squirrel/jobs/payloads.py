"""The typed payload (job_data) of each job kind: one Struct per kind, written at enqueue, read by the task.

The job table keeps job_data as JSON and the API serves it as stored, so the field names are frozen:
the snapshot payload in snake_case, the restore payload in camelCase, as they always were. Rows queued
by an earlier version (plain dicts, fields added since missing) parse with the defaults.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import msgspec

from squirrel import errors

SNAPSHOT_JOB = "snapshot_create"
RESTORE_JOB = "snapshot_restore"


class SnapshotSpec(msgspec.Struct, kw_only=True):
    """What to snapshot: the input of an inline snapshot and the snapshot_create job's payload."""

    title: str
    description: str | None = None
    comment: str | None = None
    labels: list[str] = msgspec.field(default_factory=list)
    pv_ids: list[UUID] | None = None
    tag_ids: list[UUID] | None = None
    use_cache: bool = True
    require_complete: bool = False  # a PV without a value fails the snapshot and stores nothing


class RestorePayload(msgspec.Struct, rename="camel", kw_only=True):
    """The snapshot_restore job's payload: which snapshot, which PVs (None = all) and the options."""

    snapshot_id: UUID
    pv_ids: list[UUID] | None = None
    skip_equal: bool = False
    verify: bool = False
    backup: bool = True
    force: bool = False
    allow_incomplete_backup: bool = False


PAYLOADS: dict[str, type[msgspec.Struct]] = {SNAPSHOT_JOB: SnapshotSpec, RESTORE_JOB: RestorePayload}
_P = TypeVar("_P", bound=msgspec.Struct)


def job_data(payload: msgspec.Struct) -> dict[str, Any]:
    """The JSON object stored as the job's job_data."""
    data: dict[str, Any] = msgspec.to_builtins(payload)
    return data


def parse(data: dict[str, Any], kind: type[_P]) -> _P:
    """A stored job_data as its payload Struct; a malformed one is a ValidationError (the job fails)."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise errors.ValidationError(f"job payload: {exc}") from None
