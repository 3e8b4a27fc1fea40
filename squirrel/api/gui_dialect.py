"""The released react-squirrel GUI's dialect, applied to /v1 payloads in envelope mode (API.md, Conventions).

The GUI reads alarm status and severity as numbers, and stops polling a job only on completed/failed.
These rewrites work on the decoded JSON payload so that the services keep one shape for everyone.
"""

from __future__ import annotations

import re
from typing import Any

from squirrel.pv import ALARM_STATUS, PVA_ALARM_STATUS, SEVERITY_NAMES

# CA's and PVA's names share no name, so one table answers both (a PVA status goes out as its PVA code).
_STATUS_CODE = {name: code for table in (ALARM_STATUS, PVA_ALARM_STATUS) for code, name in enumerate(table)}
_UDF = _STATUS_CODE["UDF"]
_INVALID = SEVERITY_NAMES.index("INVALID")
# Snapshot reads (values, compares); not the export, which must import again as it was written.
_SNAPSHOT_READ = re.compile(r"^/v1/snapshots/(?!.*/export/?$).+")
_JOBS = re.compile(r"^/v1/jobs(/[^/]+)?/?$")


def status_code(status: Any) -> Any:
    """The numeric alarm status of a status name: CA's code (0 = NO_ALARM) or PVA's (0 = NONE); numbers pass."""
    if isinstance(status, int) or status is None:
        return status
    text = str(status)
    if text.isdigit():  # a code the name table does not know is stored as its number
        return int(text)
    return _STATUS_CODE.get(text, _UDF)  # an unknown name: the value is undefined as far as EPICS goes


def severity_code(severity: Any) -> Any:
    """The numeric alarm severity (0 NO_ALARM .. 3 INVALID) for a severity name; numbers pass through."""
    if not isinstance(severity, str):
        return severity
    if severity.isdigit():
        return int(severity)
    return SEVERITY_NAMES.index(severity) if severity in SEVERITY_NAMES else _INVALID


def _numeric_alarms(node: Any) -> None:
    """Every alarm-carrying object (PVValueDTO, EpicsValueDTO: both have status and severity) gets numbers."""
    if isinstance(node, list):
        if node and not isinstance(node[0], dict | list):
            return  # a value array (JSON arrays here are homogeneous): nothing inside carries an alarm
        for item in node:
            _numeric_alarms(item)
    elif isinstance(node, dict):
        if "status" in node and "severity" in node:
            node["status"] = status_code(node["status"])
            node["severity"] = severity_code(node["severity"])
            # The dialect had no alarm text; a PVA alarm message (non-null) is kept as extra information.
            if "alarmMessage" in node and node["alarmMessage"] is None:
                del node["alarmMessage"]
        for value in node.values():
            if isinstance(value, dict | list):
                _numeric_alarms(value)


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
    if method in ("GET", "HEAD") and _SNAPSHOT_READ.match(path):
        _numeric_alarms(payload)
    return payload
