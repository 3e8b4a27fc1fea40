"""Pure restore planning: action precedence, limits, skip-equal, stages, value forms."""

from __future__ import annotations

import math
from typing import Any
from uuid import uuid4

from squirrel.pv import PVState
from squirrel.services.compare import values_equal
from squirrel.services.restore import _plan as rp


def target(**kw: Any) -> rp.RestoreTarget:
    base: dict[str, Any] = {
        "pv_id": uuid4(),
        "pv_name": "SP",
        "setpoint_address": "SP",
        "readback_address": None,
        "value": 1.0,
        "value_type": "double",
        "has_value": True,
    }
    base.update(kw)
    return rp.RestoreTarget(**base)


def live(value: Any = 1.0, **kw: Any) -> PVState:
    base: dict[str, Any] = {"address": "SP", "value": value, "type": "double", "connected": True, "has_value": True}
    base.update(kw)
    return PVState(**base)


OPTS = rp.RestoreOptions()


def test_precedence_registry_then_read_only_then_value_then_connection() -> None:
    gone = target(in_registry=False, read_only=True, has_value=False)
    assert rp.plan_one(gone, live(connected=False), OPTS, values_equal) == "not_in_registry"
    ro = target(read_only=True, has_value=False)
    assert rp.plan_one(ro, live(connected=False), OPTS, values_equal) == "read_only"
    assert rp.plan_one(target(has_value=False), live(connected=False), OPTS, values_equal) == "no_value"
    assert rp.plan_one(target(), live(connected=False), OPTS, values_equal) == "disconnected"
    assert rp.plan_one(target(), live(2.0), OPTS, values_equal) == "write"
    # Nobody monitors it and nothing was read: the write is attempted.
    assert rp.plan_one(target(), None, OPTS, values_equal) == "write"


def test_limits_refuse_unless_force() -> None:
    limited = live(lower_ctrl_limit=-10.0, upper_ctrl_limit=10.0)
    assert rp.plan_one(target(value=11.0), limited, OPTS, values_equal) == "out_of_limits"
    assert rp.plan_one(target(value=-10.0), limited, OPTS, values_equal) == "write"
    assert rp.plan_one(target(value=11.0), limited, rp.RestoreOptions(force=True), values_equal) == "write"
    # 0/0 (EPICS "no limits"), one missing limit, NaN and strings are not judged.
    assert rp.plan_one(target(value=11.0), live(lower_ctrl_limit=0.0, upper_ctrl_limit=0.0), OPTS, values_equal) == (
        "write"
    )
    assert rp.plan_one(target(value=11.0), live(upper_ctrl_limit=10.0), OPTS, values_equal) == "write"
    assert rp.plan_one(target(value="NaN"), limited, OPTS, values_equal) == "write"
    assert rp.plan_one(target(value="x", value_type="string"), limited, OPTS, values_equal) == "write"
    # Arrays: any element outside.
    arr = target(value=[1.0, 20.0], value_type="double[]")
    assert rp.plan_one(arr, limited, OPTS, values_equal) == "out_of_limits"


def test_skip_equal_uses_tolerance_and_enum_index() -> None:
    skip = rp.RestoreOptions(skip_equal=True)
    assert rp.plan_one(target(value=1.0), live(1.0), skip, values_equal) == "equal"
    # Within tolerance is `equal` whether or not skipEqual skips it; without skipEqual it is still written.
    assert rp.plan_one(target(value=1.0), live(1.0), OPTS, values_equal) == "equal"
    planned = rp.plan([target(value=1.0)], {"SP": live(1.0)}, OPTS, values_equal)
    assert planned[0].writes(OPTS) and not planned[0].writes(skip)
    assert [len(items) for _, items in rp.stages(planned, OPTS)] == [1] and rp.stages(planned, skip) == []
    assert rp.plan_one(target(value=1.0), live(1.05), skip, values_equal) == "write"
    assert rp.plan_one(target(value=1.0, abs_tolerance=0.1), live(1.05), skip, values_equal) == "equal"
    assert rp.plan_one(target(value="NaN"), live(math.nan), skip, values_equal) == "equal"
    en = target(value="On", value_type="enum", enum_index=1)
    assert rp.plan_one(en, live("On", type="enum", enum_index=1), skip, values_equal) == "equal"
    assert rp.plan_one(en, live("Off", type="enum", enum_index=0), skip, values_equal) == "write"
    # Connected but no value yet: cannot know, so write.
    assert rp.plan_one(target(), live(has_value=False, value=None), skip, values_equal) == "write"


def test_write_values_are_native() -> None:
    assert rp.write_value(target(value="On", value_type="enum", enum_index=1)) == 1
    assert math.isnan(rp.write_value(target(value="NaN")))
    assert rp.write_value(target(value=["Infinity", 2.0], value_type="double[]")) == [math.inf, 2.0]
    assert rp.write_value(target(value="NaN", value_type="string")) == "NaN"
    assert rp.write_value(target(value="hello", value_type="char[]")) == "hello"


def test_stages_ascending_and_only_writes() -> None:
    ts = [target(restore_order=5), target(restore_order=-1), target(restore_order=5, read_only=True)]
    planned = rp.plan(ts, {"SP": live()}, OPTS, values_equal)
    got = rp.stages(planned, OPTS)
    assert [order for order, _ in got] == [-1, 5]
    assert [len(items) for _, items in got] == [1, 1]


def test_verify_reads_readback_and_compares() -> None:
    t = target(readback_address="RB", value=2.0)
    assert rp.verify_address(t) == "RB"
    assert rp.verify_address(target()) == "SP"
    assert rp.verified(t, live(2.0, address="RB"), values_equal)
    assert not rp.verified(t, live(2.5, address="RB"), values_equal)
    assert not rp.verified(t, live(2.0, connected=False), values_equal)
    en = target(value="On", value_type="enum", enum_index=1)
    assert rp.verified(en, live("On", type="enum", enum_index=1), values_equal)


def test_summary_counts() -> None:
    counts, ok, bad = rp.summarize(["written", "verified", "equal", "mismatch", "timeout", "read_only"])
    assert (ok, bad) == (3, 2) and counts["read_only"] == 1
    # A target refused by a safety rule was not restored: a failure, not a skip.
    assert rp.summarize(["out_of_limits", "not_in_registry", "cancelled"])[1:] == (0, 1)


def test_messages_give_the_counts_with_thousands_separators() -> None:
    counts = {"timeout": 2, "disconnected": 1, "written": 1_200, "equal": 1_297}
    assert rp.not_restored(counts, 2_500) == "3 of 2,500 PVs not restored: 2 timeout, 1 disconnected"
    assert rp.restored_summary({"written": 3, "equal": 2_497}, 3) == "3 changed, 2,497 already at target"
    assert rp.restored_summary({"written": 1_500, "read_only": 2, "not_in_registry": 1}, 1_000) == (
        "1,000 changed, 500 already at target; 3 skipped: 2 read_only, 1 not_in_registry"
    )
