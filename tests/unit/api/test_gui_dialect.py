"""The GUI dialect's alarm codes: EPICS status names to their numbers (epicsAlarmConditionStrings order)."""

from __future__ import annotations

from squirrel.api.gui_dialect import rewrite, severity_code, status_code


def test_status_names_map_to_epics_codes() -> None:
    assert [status_code(n) for n in ("NO_ALARM", "READ", "HIHI", "LOLO", "COMM", "UDF", "WRITE_ACCESS")] == [
        0, 1, 3, 5, 9, 17, 21,
    ]  # fmt: skip
    assert status_code("42") == 42  # a code beyond the name table is stored as its number
    assert status_code(7) == 7 and status_code(None) is None
    assert status_code("NOT_A_STATUS") == 17  # unknown: undefined


def test_severity_names_map_to_numbers() -> None:
    assert [severity_code(s) for s in ("NO_ALARM", "MINOR", "MAJOR", "INVALID", 2, "1")] == [0, 1, 2, 3, 2, 1]
    assert severity_code("NOT_A_SEVERITY") == 3  # unknown: invalid


def test_rewrite_touches_only_its_routes() -> None:
    row = {"status": "HIHI", "severity": 2, "setpointValue": {"status": "LOW", "severity": 1}, "readbackValue": None}
    converted = rewrite("GET", "/v1/snapshots/abc", {"pvValues": [row]})["pvValues"][0]
    assert (converted["status"], converted["setpointValue"]) == (3, {"status": 6, "severity": 1})
    arrays = {"pvValues": [{"status": "HIHI", "severity": 2, "value": [1.0, 2.0]}]}
    converted = rewrite("GET", "/v1/snapshots/abc", arrays)["pvValues"][0]
    assert converted == {"status": 3, "severity": 2, "value": [1.0, 2.0]}
    assert rewrite("GET", "/v1/snapshots/abc/export", {"status": "HIHI"}) == {"status": "HIHI"}
    assert rewrite("GET", "/v1/pvs/live", {"status": "HIHI"}) == {"status": "HIHI"}
    job = {"status": "cancelled", "error": None}
    assert rewrite("DELETE", "/v1/jobs/abc", job) == {"status": "failed", "error": "cancelled"}
    assert rewrite("GET", "/v1/jobs", [{"status": "completed", "error": None}])[0]["status"] == "completed"


def test_pva_status_names_map_to_pva_codes() -> None:
    """A PVA value's status is a PVA AlarmStatus name: its code, as the CA names get theirs (not UDF)."""
    names = ("NONE", "DEVICE", "DRIVER", "RECORD", "DB", "CONF", "UNDEFINED", "CLIENT")
    assert [status_code(n) for n in names] == list(range(8))
    side = {"status": "DRIVER", "severity": 2, "alarmMessage": "link down"}
    assert rewrite("GET", "/v1/snapshots/abc", {"pvValues": [{"setpointValue": side}]}) == {
        "pvValues": [{"setpointValue": {"status": 2, "severity": 2, "alarmMessage": "link down"}}]
    }
