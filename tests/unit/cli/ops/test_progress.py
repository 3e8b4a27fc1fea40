"""squirrel.cli.ops.progress: which bar a job's progress message belongs to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import pytest

from squirrel.cli.ops.progress import stage_of
from squirrel.client import Job


def _job(message: str) -> Job:
    fields: dict[str, Any] = {
        "id": str(UUID(int=1)), "type": "snapshot_restore", "status": "running", "progress": 10, "message": message,
        "resultId": None, "error": None, "jobData": {}, "result": None, "createdAt": "2026-01-01T00:00:00Z",
        "startedAt": None, "completedAt": None, "createdBy": "t", "attempt": 1,
    }  # fmt: skip
    return msgspec.convert(fields, Job)


@pytest.mark.parametrize(
    ("message", "stage"),
    [
        ("Taking backup of 12 PVs", "backup"),
        ("Writing 3/10 (stage 1/2)", "stage 1/2"),
        ("Verifying (stage 2/2): 5 done", "stage 2/2"),
        ("Reading 5 PVs", "restore"),
        ("", "restore"),
        ("stage 1/2 without the bracket", "restore"),
        ("Backup taken (stage 1/3)", "stage 1/3"),  # only a message that starts with it is the backup
    ],
)
def test_stage_of(message: str, stage: str) -> None:
    assert stage_of(_job(message), "restore") == stage
