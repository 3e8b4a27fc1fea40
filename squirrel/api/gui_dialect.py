"""The released react-squirrel GUI's dialect, applied to /v1 payloads in envelope mode (API.md, Conventions).

The GUI reads alarm status and severity as numbers, and stops polling a job only on completed/failed.
These rewrites work on the decoded JSON payload so that the services keep one shape for everyone.
"""

from __future__ import annotations

import re
from typing import Any

from squirrel.epics.values import ALARM_STATUS, SEVERITY_NAMES

_STATUS_CODE = {name: code for code, name in enumerate(ALARM_STATUS)}
_UDF = _STATUS_CODE["UDF"]
_SNAPSHOT = re.compile(r"^/v1/snapshots/[^/]+/?$")
_JOBS = re.compile(r"^/v1/jobs(/[^/]+)?/?$")


def status_code(status: Any) -> Any:
    """The numeric EPICS alarm status (0 = NO_ALARM) for a status name; numbers pass through."""
    if isinstance(status, int) or status is None:
        return status
    text = str(status)
    if text.isdigit():  # a code the name table does not know is stored as its number
        return int(text)
    return _STATUS_CODE.get(text, _UDF)  # an unknown name: the value is undefined as far as EPICS goes


def severity_code(severity: Any) -> Any:
    if isinstance(severity, str):
        return SEVERITY_NAMES.index(severity) if severity in SEVERITY_NAMES else int(severity)
    return severity


def _numeric_alarm(obj: dict[str, Any]) -> None:
    if "status" in obj:
        obj["status"] = status_code(obj["status"])
    if "severity" in obj:
        obj["severity"] = severity_code(obj["severity"])


def _snapshot_values(payload: Any) -> Any:
    """PVValueDTO and both EpicsValueDTO sides: alarm status and severity as numbers."""
    if not isinstance(payload, dict):
        return payload
    for row in payload.get("pvValues") or ():
        if not isinstance(row, dict):
            continue
        _numeric_alarm(row)
        for side in ("setpointValue", "readbackValue"):
            value = row.get(side)
            if isinstance(value, dict):
                _numeric_alarm(value)
    return payload


def _job(job: Any) -> None:
    if isinstance(job, dict) and job.get("status") == "cancelled":
        job["status"] = "failed"
        job["error"] = "cancelled"


def _jobs(payload: Any) -> Any:
    """A cancelled job reads as failed with error "cancelled" (the GUI waits for completed/failed)."""
    for job in payload if isinstance(payload, list) else [payload]:
        _job(job)
    return payload


def rewrite(method: str, path: str, payload: Any) -> Any:
    """The payload of a successful /v1 response as the released GUI expects it."""
    if _JOBS.match(path):
        return _jobs(payload)
    if method in ("GET", "HEAD") and _SNAPSHOT.match(path):
        return _snapshot_values(payload)
    return payload
