"""Pure restore planning: which PVs a restore writes, which it skips and why, and in which stages.

No I/O here: the service hands in the snapshot's stored values joined with the registry, plus the
live states (cache, topped up by a direct read), and gets back one action per PV. Unit-tested alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, NamedTuple
from uuid import UUID

import msgspec

from squirrel.pv import FLOAT_TYPES, INTEGER_TYPES, PVState, base_type, from_wire

Action = Literal["write", "equal", "read_only", "disconnected", "no_value", "not_in_registry", "out_of_limits"]
ACTIONS: tuple[Action, ...] = (
    "write",
    "equal",
    "read_only",
    "disconnected",
    "no_value",
    "not_in_registry",
    "out_of_limits",
)
Outcome = Literal[
    "written",
    "verified",
    "mismatch",
    "equal",
    "read_only",
    "disconnected",
    "timeout",
    "failed",
    "not_in_registry",
    "out_of_limits",
    "cancelled",
]
SUCCESS: frozenset[str] = frozenset({"written", "verified", "equal"})
# A target refused by a safety rule (out_of_limits) was not restored either: it counts as a failure.
FAILURE: frozenset[str] = frozenset({"mismatch", "disconnected", "timeout", "failed", "out_of_limits"})
# Plan actions that end the PV without a write; their outcome has the same name. `equal` only with skipEqual.
SKIP_ACTIONS: frozenset[str] = frozenset({"read_only", "disconnected", "not_in_registry", "out_of_limits"})
_NUMERIC_TYPES = FLOAT_TYPES | INTEGER_TYPES

# (stored value, live value, abs tolerance, rel tolerance) -> within tolerance; the compare service's rule.
Equality = Callable[[Any, Any, float, float], bool]


class RestoreTarget(msgspec.Struct, gc=False):
    """One stored snapshot row joined with the PV's registry row as it is now (positional and untracked:
    a large restore builds 50K of them)."""

    pv_id: UUID
    pv_name: str
    setpoint_address: str | None  # as stored in the snapshot: the address written
    readback_address: str | None
    value: Any = None  # stored setpoint value, wire form (enum label, "NaN" strings allowed)
    value_type: str | None = None
    enum_index: int | None = None
    has_value: bool = False
    in_registry: bool = True
    read_only: bool = False
    restore_order: int = 0
    put_completion: bool = True
    abs_tolerance: float = 0.0
    rel_tolerance: float = 0.0


class RestoreOptions(msgspec.Struct, kw_only=True):
    skip_equal: bool = False
    verify: bool = False
    backup: bool = True
    force: bool = False
    allow_incomplete_backup: bool = False


class PlannedPV(msgspec.Struct, kw_only=True):
    target: RestoreTarget
    action: Action
    current: PVState | None

    def writes(self, options: RestoreOptions) -> bool:
        """Does the restore write this PV? `equal` ones too unless skipEqual (they are written, unchanged)."""
        return self.action == "write" or (self.action == "equal" and not options.skip_equal)


class ItemOutcome(NamedTuple):
    """One PV's recorded outcome; `changed`: it was written and its live value differed from the target."""

    outcome: str
    error: str | None = None
    changed: bool = False


def write_value(target: RestoreTarget) -> Any:
    """The value to put in its native form: enums by index, non-finite floats as floats."""
    if target.enum_index is not None and (target.value_type or "").startswith("enum"):
        return target.enum_index
    return from_wire(target.value, target.value_type)


def comparable(value: Any, value_type: str | None, enum_index: int | None) -> Any:
    """What equality looks at: the enum index for enums, the native value otherwise."""
    if enum_index is not None and (value_type or "").startswith("enum"):
        return enum_index
    return from_wire(value, value_type)


def live_comparable(state: PVState) -> Any:
    return comparable(state.value, state.type, state.enum_index)


def out_of_limits(target: RestoreTarget, state: PVState | None) -> bool:
    """True when a numeric target lies outside the drive (control) limits the IOC reports.

    Limits count only when both are known and differ (EPICS uses 0/0 for "no limits"). NaN is not
    judged: it compares false with anything and restoring a stored NaN is what the snapshot says.
    """
    if state is None or (target.value_type or "").startswith("enum"):
        return False
    lo, hi = state.lower_ctrl_limit, state.upper_ctrl_limit
    if lo is None or hi is None or lo == hi:
        return False
    if base_type(target.value_type) not in _NUMERIC_TYPES:
        return False
    value = from_wire(target.value, target.value_type)
    values = value if isinstance(value, list) else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
            continue
        if v < min(lo, hi) or v > max(lo, hi):
            return True
    return False


def plan_one(target: RestoreTarget, state: PVState | None, options: RestoreOptions, equal: Equality) -> Action:
    """The action for one PV. Order matters: registry and rules first, then the live state.

    A PV within tolerance of its target is `equal` whatever skipEqual says (PlannedPV.writes decides
    whether it is written). `state` None means nobody monitors the address and a direct read found
    nothing either: the write is attempted and the CA layer reports what happened.
    """
    if not target.in_registry:
        return "not_in_registry"
    if target.read_only:
        return "read_only"
    if not target.has_value or not target.setpoint_address:
        return "no_value"
    if state is not None and not state.connected:
        return "disconnected"
    if not options.force and out_of_limits(target, state):
        return "out_of_limits"
    if state is not None and state.has_value:
        stored = comparable(target.value, target.value_type, target.enum_index)
        if equal(stored, live_comparable(state), target.abs_tolerance, target.rel_tolerance):
            return "equal"
    return "write"


def plan(
    targets: Iterable[RestoreTarget],
    states: Mapping[str, PVState | None],
    options: RestoreOptions,
    equal: Equality,
) -> list[PlannedPV]:
    out = []
    for t in targets:
        state = states.get(t.setpoint_address) if t.setpoint_address else None
        out.append(PlannedPV(target=t, action=plan_one(t, state, options, equal), current=state))
    return out


def reason(planned: PlannedPV) -> str | None:
    """Why a PV is not written, where the action alone does not say: what the live read found, the limits."""
    state = planned.current
    if planned.action == "disconnected":
        return (state.error if state is not None else None) or "disconnected"
    if planned.action == "out_of_limits" and state is not None:
        limits = f"[{state.lower_ctrl_limit:g}, {state.upper_ctrl_limit:g}]"
        return f"target {planned.target.value!r} is outside the drive limits {limits} (force=true writes it)"
    return None


def count(names: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def stages(planned: Sequence[PlannedPV], options: RestoreOptions) -> list[tuple[int, list[PlannedPV]]]:
    """The PVs to write grouped by restore order, ascending; stable within a stage."""
    by_order: dict[int, list[PlannedPV]] = {}
    for p in planned:
        if p.writes(options):
            by_order.setdefault(p.target.restore_order, []).append(p)
    return sorted(by_order.items())


def verify_address(target: RestoreTarget) -> str | None:
    """Where verification reads: the readback when the PV has one, else the setpoint itself."""
    return target.readback_address or target.setpoint_address


def verified(target: RestoreTarget, state: PVState | None, equal: Equality) -> bool:
    if state is None or not state.connected or not state.has_value:
        return False
    stored = comparable(target.value, target.value_type, target.enum_index)
    live = live_comparable(state)
    if isinstance(stored, int) and (target.value_type or "").startswith("enum") and state.enum_index is None:
        live = state.value  # a readback may be a plain number mirroring the enum index
    return equal(stored, live, target.abs_tolerance, target.rel_tolerance)


def summarize(outcomes: Iterable[str]) -> tuple[dict[str, int], int, int]:
    counts = count(outcomes)
    success = sum(n for k, n in counts.items() if k in SUCCESS)
    failure = sum(n for k, n in counts.items() if k in FAILURE)
    return counts, success, failure


def _by_count(counts: Mapping[str, int], names: frozenset[str]) -> str:
    parts = sorted(((n, k) for k, n in counts.items() if k in names and n), key=lambda p: (-p[0], p[1]))
    return ", ".join(f"{n:,} {k}" for n, k in parts)


def not_restored(counts: Mapping[str, int], total: int) -> str:
    """The failed restore's error: "3 of 2,500 PVs not restored: 2 timeout, 1 disconnected"."""
    failed = sum(n for k, n in counts.items() if k in FAILURE)
    return f"{failed:,} of {total:,} PVs not restored: {_by_count(counts, FAILURE)}"


def restored_summary(counts: Mapping[str, int], changed: int) -> str:
    """What the restore did to the PVs it succeeded on, and what it skipped by rule:
    "3 changed, 2,497 already at target" (+ "; 2 skipped: 2 read_only")."""
    success = sum(n for k, n in counts.items() if k in SUCCESS)
    text = f"{changed:,} changed, {success - changed:,} already at target"
    skips = frozenset(counts) - SUCCESS - FAILURE
    skipped = sum(counts[k] for k in skips)
    if skipped:
        text += f"; {skipped:,} skipped: {_by_count(counts, skips)}"
    return text
