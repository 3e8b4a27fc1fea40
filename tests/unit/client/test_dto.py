"""squirrel.client._dto: the widened DTOs decode older answers, and a job tells its state and restore outcome."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import pytest

from squirrel.client._dto import TERMINAL, Job, RestoreOutcome, Snapshot, to_builtins

_JOB: dict[str, Any] = {
    "id": str(UUID(int=1)),
    "type": "snapshot_restore",
    "status": "completed",
    "progress": 100,
    "message": "",
    "resultId": None,
    "error": None,
    "jobData": {},
    "result": None,
    "createdAt": "2026-01-01T00:00:00Z",
    "startedAt": None,
    "completedAt": None,
    "createdBy": "test",
    "attempt": 1,
}
_OUTCOME: dict[str, Any] = {
    "totalPVs": 1,
    "successCount": 1,
    "failureCount": 0,
    "changedCount": 1,
    "backupSnapshotId": None,
    "counts": {"written": 1},
    "items": [{"pvId": str(UUID(int=2)), "pvName": "X:1", "outcome": "written"}],
}


def _job(**changes: Any) -> Job:
    return msgspec.convert({**_JOB, **changes}, Job)


@pytest.mark.parametrize("status", ["pending", "running", "completed", "failed", "cancelled"])
def test_finished_means_a_terminal_status(status: str) -> None:
    assert _job(status=status).finished is (status in {"completed", "failed", "cancelled"})
    assert TERMINAL == {"completed", "failed", "cancelled"}


def test_a_finished_restore_gives_its_outcome() -> None:
    outcome = _job(result=_OUTCOME).restore_outcome()
    assert isinstance(outcome, RestoreOutcome)
    assert (outcome.total_pvs, outcome.counts, outcome.items[0].pv_name) == (1, {"written": 1}, "X:1")


@pytest.mark.parametrize(
    "changes",
    [{"result": None}, {"result": {}}, {"result": {"totalPVs": 1}}, {"type": "snapshot_create", "result": _OUTCOME}],
)
def test_no_outcome_for_other_jobs_or_before_the_end(changes: dict[str, Any]) -> None:
    assert _job(**changes).restore_outcome() is None


def test_an_older_server_without_warnings_still_decodes() -> None:
    assert _job().warnings == []


def test_a_snapshot_has_an_optional_matched_count() -> None:
    fields = {f.encode_name for f in msgspec.structs.fields(Snapshot)}
    assert "matchedCount" in fields
    assert next(f for f in msgspec.structs.fields(Snapshot) if f.name == "matched_count").default is None


def test_to_builtins_uses_the_wire_names() -> None:
    wire = to_builtins(_job(warnings=["w"]))
    assert wire["createdBy"] == "test" and wire["warnings"] == ["w"] and "created_by" not in wire
    assert to_builtins([_job()])[0]["jobData"] == {}
