"""squirrel snapshot compare A B|live: the differences as a table, largest delta first."""

from __future__ import annotations

import math
from typing import Any

from squirrel.cli.ops.common import INCOMPLETE, OK, Ops, leaf
from squirrel.cli.ops.render import delta_of, table, value_text
from squirrel.cli.ops.snapshot_cmds import snapshot_ref
from squirrel.client import CompareDifference, CompareResult


def side_of(d: CompareDifference) -> str | None:
    """Which side differs: the server's `side`, or (older servers) its reason when that names a side."""
    if d.side:
        return d.side
    return d.reason if d.reason in ("setpoint", "readback") else None


def complete(d: CompareDifference) -> CompareDifference:
    """The difference with side and delta filled in where the server left them out."""
    if d.side is None:
        d.side = side_of(d)
    if d.delta is None:
        d.delta = delta_of(d.value1, d.value2)
    return d


def ordered(diffs: list[CompareDifference]) -> list[CompareDifference]:
    """Largest |delta| first; differences without a numeric delta after them, by name."""

    def key(d: CompareDifference) -> tuple[int, float, str]:
        if d.delta is None or math.isnan(d.delta):
            return (1, 0.0, d.pv_name)
        return (0, -abs(d.delta), d.pv_name)

    return sorted(diffs, key=key)


def cmd_compare(ops: Ops) -> int:
    a = ops.args
    client = ops.client
    first = snapshot_ref(client, a.first)
    second: Any = "live" if a.second.lower() == "live" else snapshot_ref(client, a.second)
    result: CompareResult = client.compare(first, second, a.abs_tol, a.rel_tol, a.side)
    diffs = [complete(d) for d in result.differences]
    if a.side:  # a server without the side filter sends both sides; whole-PV differences stay
        diffs = [d for d in diffs if d.side in (a.side, None)]
        result.difference_count = len(diffs)
    result.differences = ordered(diffs)

    def render() -> None:
        right = "live" if second == "live" else "B"
        with_address = any(d.address for d in result.differences)  # older servers send no address
        t = table("PV", "side", *(["address"] if with_address else []), "A", right, "delta", "reason")
        for d in result.differences:
            t.add_row(
                d.pv_name,
                d.side or "",
                *([d.address or ""] if with_address else []),
                value_text(d.value1),
                value_text(d.value2),
                "" if d.delta is None else f"{d.delta:+.6g}",
                d.reason if d.reason and d.reason != d.side else "",
            )
        ops.out.print(t)
        ops.note(f"{result.difference_count:,} differences, {result.match_count:,} PVs match")

    ops.emit(result, render)
    return INCOMPLETE if a.fail_on_diff and result.difference_count else OK


def register(sub: Any) -> None:
    p = leaf(sub, "compare", cmd_compare, "compare two snapshots, or a snapshot with live values")
    p.add_argument("first", metavar="A", help="snapshot id or 'golden'")
    p.add_argument("second", metavar="B", help="snapshot id, 'golden' or 'live'")
    p.add_argument("--side", choices=("setpoint", "readback"), help="only differences on this side")
    p.add_argument("--abs-tol", type=float, help="absolute tolerance (overrides every PV's)")
    p.add_argument("--rel-tol", type=float, help="relative tolerance (overrides every PV's)")
    p.add_argument("--fail-on-diff", action="store_true", help="exit 1 when there are differences")
