"""CPU seconds per phase, by who spent them: the service, the IOCs, PostgreSQL and the bench itself.

On one host the IOCs and PostgreSQL share the cores with the service, so a phase's wall time is not the
service's cost alone. At 200K PVs on 8 soft IOCs the IOCs spent more CPU than the service while every
channel connected (their per-circuit cost grows faster than linearly). Per-process times say whose
cost grew.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import psutil

Groups = Mapping[str, list[int]]  # who -> the PIDs that are it now
Snapshot = dict[str, dict[int, float]]  # who -> PID -> CPU seconds so far


def _seconds(pid: int, with_children: bool) -> dict[int, float]:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)] if with_children else [proc]
    except psutil.Error:
        return {}
    out: dict[int, float] = {}
    for p in procs:
        try:
            times = p.cpu_times()
        except psutil.Error:
            continue  # gone meanwhile
        out[p.pid] = float(times.user + times.system)
    return out


def snapshot(groups: Groups, with_children: frozenset[str] = frozenset()) -> Snapshot:
    """Each group's processes' CPU seconds so far (for groups in `with_children`, their children too)."""
    out: Snapshot = {}
    for who, pids in groups.items():
        seen: dict[int, float] = {}
        for pid in pids:
            seen.update(_seconds(pid, who in with_children))
        out[who] = seen
    return out


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds each group spent between two snapshots. A process that started meanwhile counts from
    zero; one that ended meanwhile is missing from `after` and its last share is not counted. A group
    with no process left at the end is left out (not a false 0: e.g. a service started and stopped
    within the phase)."""
    return {
        who: round(sum(s - before.get(who, {}).get(pid, 0.0) for pid, s in now.items()), 2)
        for who, now in after.items()
        if now
    }


class PhaseCpu:
    """Takes a snapshot when a phase starts and reports what each group spent when it ends."""

    def __init__(self, groups: Callable[[], Groups], with_children: frozenset[str] = frozenset()) -> None:
        self._groups = groups
        self._with_children = with_children
        self._before: Snapshot = {}

    def begin(self) -> None:
        self._before = snapshot(self._groups(), self._with_children)

    def end(self) -> dict[str, float]:
        return spent(self._before, snapshot(self._groups(), self._with_children))
