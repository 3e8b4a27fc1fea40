"""Typed job payloads: what enqueue stores is what the task reads, and rows queued before parse too."""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec
import pytest

from squirrel.errors import ValidationError
from squirrel.jobs.payloads import PAYLOADS, RESTORE_JOB, SNAPSHOT_JOB, RestorePayload, SnapshotSpec, job_data, parse

SID = UUID("0b5d3c56-3f6a-4a8e-9d1c-1e2f3a4b5c6d")
PV = UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")


def test_every_job_kind_has_one_payload() -> None:
    assert PAYLOADS == {SNAPSHOT_JOB: SnapshotSpec, RESTORE_JOB: RestorePayload}


def test_restore_payload_keeps_the_stored_shape() -> None:
    """The exact dict the restore start wrote before the Struct (the API serves job_data as stored)."""
    payload = RestorePayload(snapshot_id=SID, pv_ids=[PV], skip_equal=True, verify=False, backup=True, force=False)
    assert job_data(payload) == {
        "snapshotId": str(SID),
        "pvIds": [str(PV)],
        "skipEqual": True,
        "verify": False,
        "backup": True,
        "force": False,
        "allowIncompleteBackup": False,
    }
    assert msgspec.json.encode(job_data(payload)).startswith(b'{"snapshotId":')


def test_old_restore_dict_parses() -> None:
    old = {"snapshotId": str(SID), "pvIds": None, "skipEqual": False, "verify": True, "backup": False, "force": True}
    parsed = parse(old, RestorePayload)  # queued before allowIncompleteBackup existed
    assert parsed == RestorePayload(snapshot_id=SID, verify=True, backup=False, force=True)
    assert parsed.allow_incomplete_backup is False


def test_restore_round_trip() -> None:
    payload = RestorePayload(snapshot_id=uuid4(), pv_ids=[uuid4(), uuid4()], allow_incomplete_backup=True)
    assert parse(msgspec.json.decode(msgspec.json.encode(job_data(payload))), RestorePayload) == payload


def test_snapshot_payload_keeps_snake_case() -> None:
    spec = SnapshotSpec(title="t", labels=["a"], tag_ids=[PV], use_cache=False)
    data = job_data(spec)
    assert data["tag_ids"] == [str(PV)] and data["use_cache"] is False and data["pv_ids"] is None
    assert parse(data, SnapshotSpec) == spec


def test_old_snapshot_dict_parses() -> None:
    old = {"title": "nightly", "description": None, "comment": None, "labels": [], "pv_ids": [str(PV)],
           "tag_ids": None, "use_cache": True}  # fmt: skip
    spec = parse(old, SnapshotSpec)
    assert spec.pv_ids == [PV] and spec.require_complete is False


@pytest.mark.parametrize(
    ("data", "kind"),
    [({"pvIds": None}, RestorePayload), ({"snapshotId": "not-a-uuid"}, RestorePayload), ({}, SnapshotSpec)],
)
def test_malformed_payload_is_a_validation_error(data: dict[str, object], kind: type[msgspec.Struct]) -> None:
    with pytest.raises(ValidationError, match="job payload"):
        parse(data, kind)
