"""Which PVs a restore's backup would leave without their old value, and how that is said."""

from __future__ import annotations

from uuid import uuid4

from squirrel.pv import PVState
from squirrel.services.restore import _plan as rp
from squirrel.services.restore._source import incomplete_error, lacking


def _planned(name: str, action: rp.Action) -> rp.PlannedPV:
    target = rp.RestoreTarget(pv_id=uuid4(), pv_name=name, setpoint_address=name, readback_address=None)
    return rp.PlannedPV(target=target, action=action, current=None)


def test_lacking_counts_only_pvs_written_without_a_connected_value_at_their_address() -> None:
    ok, cold, moved, skipped, equal = (
        _planned("OK", "write"),
        _planned("COLD", "write"),
        _planned("MOVED", "write"),
        _planned("DOWN", "disconnected"),
        _planned("SAME", "equal"),
    )
    rows = [
        (ok.target.pv_id.bytes, "OK", None),
        (cold.target.pv_id.bytes, "COLD", None),
        (moved.target.pv_id.bytes, "ELSEWHERE", None),
        (skipped.target.pv_id.bytes, "DOWN", None),
        (equal.target.pv_id.bytes, "SAME", None),
    ]
    states = {
        "OK": PVState(address="OK", value=1.0, connected=True, has_value=True),
        "COLD": PVState(address="COLD", connected=True, has_value=False),
        "ELSEWHERE": PVState(address="ELSEWHERE", value=1.0, connected=True, has_value=True),
        "DOWN": PVState(address="DOWN", error="timeout"),
    }
    planned = [ok, cold, moved, skipped, equal]
    found = lacking(planned, rp.RestoreOptions(skip_equal=True), rows, states)
    assert [(p.target.pv_name, why) for p, why in found] == [
        ("COLD", "no value read from COLD"),
        ("MOVED", "the backup holds setpoint 'ELSEWHERE', the restore writes 'MOVED'"),
    ]
    # Written anyway (skipEqual off), SAME needs its value too; the cache/read never gave one.
    assert [p.target.pv_name for p, _ in lacking(planned, rp.RestoreOptions(), rows, states)][-1] == "SAME"


def test_incomplete_error_names_the_first_ten() -> None:
    missing = [(_planned(f"PV{i}", "write"), "no value") for i in range(12)]
    text = incomplete_error(missing, 100)
    assert text.startswith("backup incomplete: 12 of 100 PVs to write have no backup value (PV0, PV1,")
    assert "PV9 and 2 more); nothing was written (allowIncompleteBackup=true restores without it)" in text
