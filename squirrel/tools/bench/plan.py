"""The figure phases of `squirrel bench`, in run order, and which of them a run measures (`--only`, `--ui`).

The infrastructure (IOCs, PostgreSQL, the service with the registry) is started for whatever the chosen
phases need; a phase that needs stored snapshots takes them, unmeasured, when `snapshots` is not chosen.
Figures of phases that do not run are null and listed under "skipped" with the reason.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from squirrel.tools.bench import load
from squirrel.tools.bench.overload import OVERLOAD_KEYS, overload_phase
from squirrel.tools.bench.report import BASELINES
from squirrel.tools.bench.ui import UI_KEYS, ui_phase

if TYPE_CHECKING:
    from squirrel.tools.bench.harness import Bench


@dataclass(frozen=True)
class Phase:
    label: str  # shown by the progress bar and in extras.phase_seconds
    keys: tuple[str, ...]  # the figures it measures
    help: str
    needs_service: bool = True  # the full service with the registered PVs
    snapshots: int = 0  # stored snapshots it needs


PHASES: dict[str, Phase] = {
    "baselines": Phase("raw aioca baselines", BASELINES, "raw aioca caget/caput/camonitor", needs_service=False),
    "register": Phase("register (api only)", ("register_multi_s",), "POST /v1/pvs/multi", needs_service=False),
    "monitor": Phase("monitor connect-all", ("monitor_connect_all_s",), "service restart → every PV connected"),
    "snapshots": Phase("snapshots", ("snapshot_cache_s", "snapshot_direct_s"), "snapshot from cache and direct"),
    "ui": Phase("console snapshot view", UI_KEYS, "the console's snapshot view in chromium", snapshots=1),
    "read": Phase("compare + get", ("compare_snapshots_s", "get_snapshot_s"), "compare, GET a snapshot", snapshots=2),
    "restore": Phase("restore", ("restore_s",), "restore a snapshot with completion", snapshots=1),
    "list": Phase("list snapshots", ("list_snapshots_s",), "GET /v1/snapshots"),
    "ingest": Phase("monitor ingest", ("max_updates_per_s",), "monitor updates/s"),
    "sse": Phase("SSE latency", ("sse_p99_latency_ms",), "caput → SSE diff latency"),
    "overload": Phase("overload", OVERLOAD_KEYS, "RSS and /readyz under 150K updates/s offered"),
}
OPTIONAL = frozenset({"ui"})  # measured only when asked for (--ui, or named in --only)


def parse_only(text: str | None) -> tuple[str, ...]:
    """`--only a,b` → ("a", "b"); ValueError naming the unknown phases and the known ones."""
    if text is None:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in PHASES]
    if unknown or not names:
        what = f"unknown phase(s) {', '.join(unknown)}" if unknown else "no phase named"
        raise ValueError(f"--only: {what}; choose from {', '.join(PHASES)}")
    return names


def chosen(only: tuple[str, ...], ui: bool) -> list[str]:
    """The phases a run measures, in run order."""
    if only:
        return [n for n in PHASES if n in only]
    return [n for n in PHASES if n not in OPTIONAL or ui]


def skip_reason(name: str, only: tuple[str, ...]) -> str:
    if only:
        return f"not selected (--only {','.join(only)})"
    return "not requested (add --ui)" if name in OPTIONAL else "not selected"


def step_count(names: list[str]) -> int:
    """Progress steps: IOCs, PostgreSQL, the service when needed, then one per phase."""
    return 2 + any(PHASES[n].needs_service for n in names) + len(names)


def _body(b: Bench, name: str) -> Callable[[], Awaitable[None]]:
    bodies: dict[str, Callable[[], Awaitable[None]]] = {
        "baselines": b.baselines,
        "register": b.register_repeats,
        "monitor": b.monitor_repeats,
        "snapshots": b.snapshots_phase,
        "ui": lambda: ui_phase(b),
        "read": b.read_phase,
        "restore": b.restore_phase,
        "list": b.list_phase,
        "ingest": lambda: load.ingest_phase(b),
        "sse": lambda: load.sse_phase(b),
        "overload": lambda: overload_phase(b),
    }
    return bodies[name]


async def run_phases(b: Bench, names: list[str]) -> None:
    for name in PHASES:
        if name not in names:
            for key in PHASES[name].keys:
                b.results.skip(key, skip_reason(name, b.cfg.only))
    if not await b.infrastructure():
        return
    service = [n for n in names if PHASES[n].needs_service]
    for name in names:
        if service and name == service[0]:
            await b.phase("service + registry", ("*",), b.main_service)
        phase = PHASES[name]
        if phase.needs_service and b.svc is None:
            # Its start-up (the "*" reason) or an earlier restart failed: that is the cause to report.
            reason = b.results.errors.get("*") or f"{phase.label}: the service is not running (an earlier phase failed)"
            for key in phase.keys:
                b.results.error(key, reason)
            continue

        async def body(phase: Phase = phase, name: str = name) -> None:
            # Only phases that read snapshots need them (the baselines run before any service starts); with
            # the snapshots phase selected, its failure explains the missing ones.
            if phase.snapshots and "snapshots" not in names:
                await b.ensure_snapshots(phase.snapshots)
            await _body(b, name)()

        await b.phase(phase.label, phase.keys, body)
    if "aioca" in sys.modules:
        # Close the bench's own channels while its loop still runs (libca calls back into it otherwise).
        sys.modules["aioca"].purge_channel_caches()
