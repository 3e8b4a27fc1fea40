"""`squirrel bench --scale 50000,200000`: the same figures at several registry sizes in one invocation.

Each size is a whole bench run (its own IOCs, PostgreSQL and service); the report keeps every run and,
per figure, the growth from the smallest size to each larger one. Linear cost plus 10 % is the bar: a
figure may grow at most 1.1 × the size ratio (a rate may fall at most by that factor). Peak RSS at the
largest size has its own limit (1 GB).

`--repeat N` runs N rounds of one repeat per size, alternating the order (small → large, then large →
small, ...), and merges each size's rounds (medians over all their samples). On a shared host the
machine's speed drifts over minutes (the same 50K cache snapshot measured 0.23 s, then 0.36 s, ten
minutes apart); repeats taken in one block per size would put that drift into the growth, alternating
rounds put the same drift on every size.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from squirrel.tools.bench.harness import BenchConfig
from squirrel.tools.bench.report import BASELINES, FIGURES, TARGETS, Results, build_json

SLACK = 1.1  # linear plus 10 %
PEAK_RSS_LIMIT_MB = 1000.0
PVS_PER_IOC = 25_000  # a C soft IOC serves this many records comfortably (iocInit, memory)
# Counts of what happened rather than costs (updates merged under overload): shown, not judged.
COUNTS = frozenset({"overload_merged"})


def parse_sizes(text: str) -> tuple[int, ...]:
    """`50000,200000` → (50000, 200000); ValueError for fewer than two sizes, a size < 2 or a repeat."""
    try:
        sizes = tuple(int(part.strip().replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--scale: {text!r} is not a comma-separated list of PV counts") from None
    if len(sizes) < 2:
        raise ValueError("--scale: give at least two PV counts, e.g. 50000,200000")
    if min(sizes) < 2:
        raise ValueError("--scale: every PV count must be at least 2")
    if len(set(sizes)) != len(sizes):
        raise ValueError("--scale: each PV count once")
    return tuple(sorted(sizes))


def config_for(base: BenchConfig, pvs: int, round_no: int = 1) -> BenchConfig:
    """One round's run at one size (one repeat): more IOCs when the base count would put over PVS_PER_IOC
    on each; its own profile folder."""
    iocs = max(base.iocs, math.ceil(pvs / PVS_PER_IOC))
    profile = None
    if base.profile_dir is not None:
        profile = base.profile_dir / str(pvs)
        if base.repeat > 1:
            profile /= f"round{round_no}"
    return replace(base, pvs=pvs, iocs=iocs, repeat=1, json_path=None, profile_dir=profile)


def round_order(sizes: tuple[int, ...], rounds: int) -> list[tuple[int, int]]:
    """(round, size) in run order: small → large in odd rounds, large → small in even ones."""
    return [(r, size) for r in range(1, rounds + 1) for size in (sizes if r % 2 else sizes[::-1])]


def merge_rounds(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One size's rounds as one report: every figure the median of all its rounds' samples; a figure is
    lost only when no round measured it. Extras: each round's, and the median CPU seconds per phase."""
    if len(reports) == 1:
        return reports[0]
    results = Results()
    for report in reports:
        for key, values in (report.get("samples") or {}).items():
            for value in values:
                results.add(key, value)
    for report in reports:
        for key, why in (report.get("skipped") or {}).items():
            results.skip(key, why)
        for key, why in (report.get("errors") or {}).items():
            if not results.samples.get(key) and key not in results.skipped:
                results.error(key, why)
    results.extras = {"rounds": [r.get("extras", {}) for r in reports], "cpu_seconds": _median_cpu(reports)}
    config = {**(reports[0].get("config") or {}), "rounds": len(reports)}
    return build_json(results, config)


def _median_cpu(reports: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    seen: dict[str, dict[str, list[float]]] = {}
    for report in reports:
        for phase, groups in report.get("extras", {}).get("cpu_seconds", {}).items():
            for who, seconds in groups.items():
                seen.setdefault(phase, {}).setdefault(who, []).append(float(seconds))
    return {phase: {who: round(statistics.median(v), 3) for who, v in g.items()} for phase, g in seen.items()}


def growth_table(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Per figure and larger size: the growth from the smallest size, its limit and whether it holds."""
    sizes = sorted(runs)
    small = sizes[0]
    out: dict[str, Any] = {}
    for key in FIGURES + BASELINES:
        rows: dict[str, Any] = {}
        for size in sizes[1:]:
            k = size / small
            a, b = runs[small].get(key), runs[size].get(key)
            rate = key in TARGETS and TARGETS[key].higher_is_better
            growth = None if a is None or b is None or a == 0 or b == 0 else (a / b if rate else b / a)
            limit = SLACK * k
            rows[str(size)] = {
                "growth": None if growth is None else round(growth, 3),
                "limit": None if key in BASELINES or key in COUNTS else round(limit, 3),
                # The raw client's own growth is the reference the service's figures are read against.
                "pass": None if growth is None or key in BASELINES or key in COUNTS else growth <= limit,
            }
        kind = (
            "raw reference" if key in BASELINES else "count" if key in COUNTS else "rate (falls by)" if rate else "cost"
        )
        out[key] = {"kind": kind, "by_size": rows}
    return out


def _cpu(run: dict[str, Any], phase: str, who: str) -> float | None:
    value = run.get("extras", {}).get("cpu_seconds", {}).get(phase, {}).get(who)
    return None if value is None else float(value)


def cpu_growth(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Per phase and process group (service, iocs, postgres, bench): the CPU seconds at each size and
    their growth from the smallest. Evidence of whose cost grew, beside the wall-clock figures."""
    sizes = sorted(runs)
    small = sizes[0]
    out: dict[str, Any] = {}
    for phase, groups in runs[small].get("extras", {}).get("cpu_seconds", {}).items():
        for who in groups:
            seconds = {str(s): _cpu(runs[s], phase, who) for s in sizes}
            a = seconds[str(small)]
            growth = {str(s): None if not a or (b := seconds[str(s)]) is None else round(b / a, 3) for s in sizes[1:]}
            out.setdefault(phase, {})[who] = {"seconds": seconds, "growth": growth}
    return out


def build_scale_report(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    sizes = sorted(runs)
    growth = growth_table(runs)
    largest_rss = runs[sizes[-1]].get("peak_rss_mb")
    lost = {str(size): sorted(run.get("errors", {})) for size, run in runs.items() if run.get("errors")}
    return {
        "sizes": sizes,
        "growth": growth,
        "peak_rss_limit_mb": PEAK_RSS_LIMIT_MB,
        "peak_rss_pass": None if largest_rss is None else largest_rss <= PEAK_RSS_LIMIT_MB,
        "lost_figures": lost,
        "cpu_growth": cpu_growth(runs),
        "runs": {str(size): run for size, run in runs.items()},
    }


def run_scale(
    base: BenchConfig,
    sizes: tuple[int, ...],
    run_one: Callable[[BenchConfig], dict[str, Any]],
) -> dict[str, Any]:
    """Run the bench at each size in base.repeat alternating rounds (see the module docstring); the
    combined report (written to base.json_path)."""
    rounds: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for round_no, size in round_order(sizes, max(1, base.repeat)):
        rounds[size].append(run_one(config_for(base, size, round_no)))
    runs = {size: merge_rounds(reports) for size, reports in rounds.items()}
    report = build_scale_report(runs)
    if base.json_path is not None:
        base.json_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def bench_subprocess(cfg: BenchConfig) -> dict[str, Any]:
    """One size as its own `squirrel bench` process: a fresh libca context for the bench's own CA client
    (it reads EPICS_CA_ADDR_LIST once per process, and each size starts IOCs on new ports)."""
    with tempfile.TemporaryDirectory(prefix="squirrel-scale-") as tmp:
        out = Path(tmp) / "run.json"
        argv = [sys.executable, "-m", "squirrel", "bench", "--pvs", str(cfg.pvs), "--iocs", str(cfg.iocs)]
        argv += ["--ioc", cfg.ioc, "--repeat", str(cfg.repeat), "--sse-clients", str(cfg.sse_clients)]
        argv += ["--json", str(out)]
        if cfg.only:
            argv += ["--only", ",".join(cfg.only)]
        if cfg.ui:
            argv.append("--ui")
        if cfg.profile_dir is not None:
            argv += ["--profile", str(cfg.profile_dir)]
        done = subprocess.run(argv, check=False)
        if out.exists():
            report: dict[str, Any] = json.loads(out.read_text())
            return report
    reason = f"squirrel bench --pvs {cfg.pvs} exited with status {done.returncode} and wrote no report"
    return {**dict.fromkeys(FIGURES + BASELINES), "errors": dict.fromkeys(FIGURES + BASELINES, reason)}


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"


def scale_table(report: dict[str, Any]) -> str:
    """Figure, its median at each size, growth to each larger size against the limit."""
    sizes: list[int] = report["sizes"]
    head = ["figure", *(f"{s:,}" for s in sizes), *(f"growth→{s:,} (≤)" for s in sizes[1:]), "pass"]
    rows = [head]
    for key, entry in report["growth"].items():
        values = [report["runs"][str(s)].get(key) for s in sizes]
        if all(v is None for v in values):
            continue
        cells = [key, *(_fmt(v) for v in values)]
        verdicts = []
        for s in sizes[1:]:
            g = entry["by_size"][str(s)]
            mark = " ↓" if entry["kind"].startswith("rate") else ""
            bound = "" if g["limit"] is None else f" ({g['limit']:.1f})"
            cells.append("—" if g["growth"] is None else f"{g['growth']:.2f}×{mark}{bound}")
            verdicts.append(g["pass"])
        shown = {"raw reference": "ref", "count": "count"}.get(entry["kind"])
        cells.append(shown or ("n/a" if None in verdicts else "PASS" if all(verdicts) else "FAIL"))
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    rss = report["runs"][str(sizes[-1])].get("peak_rss_mb")
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}[report["peak_rss_pass"]]
    lines.append(f"peak RSS at {sizes[-1]:,} PVs: {_fmt(rss)} MB (≤ {PEAK_RSS_LIMIT_MB:,.0f}) {verdict}")
    lines.extend(_cpu_lines(report))
    for size, keys in report["lost_figures"].items():
        lines.append(f"! lost at {int(size):,} PVs: {', '.join(keys)} (see that run's errors)")
    return "\n".join(lines)


def _cpu_lines(report: dict[str, Any]) -> list[str]:
    """Per phase, each group's CPU seconds from the smallest size to the largest, and the growth."""
    cpu: dict[str, Any] = report.get("cpu_growth", {})
    if not cpu:
        return []
    small, large = str(report["sizes"][0]), str(report["sizes"][-1])
    lines = [f"CPU seconds per phase, {int(small):,} → {int(large):,} PVs (growth):"]
    for phase, groups in cpu.items():
        cells = []
        for who, row in groups.items():
            a, b, g = row["seconds"][small], row["seconds"][large], row["growth"][large]
            if a is None and b is None:
                continue
            cells.append(f"{who} {_fmt(a)} → {_fmt(b)}" + ("" if g is None else f" ({g:.2f}×)"))
        if cells:
            lines.append(f"  {phase}: " + "; ".join(cells))
    return lines
