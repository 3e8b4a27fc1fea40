"""Bench results: samples per figure → median and range, ratios to the raw baselines, targets, table, JSON."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Every key the JSON always carries (null when it could not be measured, with an "errors" entry).
FIGURES: tuple[str, ...] = (
    "register_multi_s",
    "monitor_connect_all_s",
    "snapshot_cache_s",
    "snapshot_direct_s",
    "restore_s",
    "compare_snapshots_s",
    "get_snapshot_s",
    "list_snapshots_s",
    "max_updates_per_s",
    "sse_p99_latency_ms",
    "peak_rss_mb",
    "overload_rss_mb",
    "overload_readyz_p99_ms",
    "overload_merged",
    "ui_first_rows_ms",
    "ui_filter_ms",
)
BASELINES: tuple[str, ...] = ("raw_caget_cold_s", "raw_caget_warm_s", "raw_caput_s", "raw_camonitor_all_s")
RATIOS: dict[str, tuple[str, str]] = {
    "monitor_connect_all_s/raw_camonitor_all_s": ("monitor_connect_all_s", "raw_camonitor_all_s"),
    "snapshot_direct_s/raw_caget_warm_s": ("snapshot_direct_s", "raw_caget_warm_s"),
    "restore_s/raw_caput_s": ("restore_s", "raw_caput_s"),
    "snapshot_cache_s/raw_caget_warm_s": ("snapshot_cache_s", "raw_caget_warm_s"),
}


@dataclass(frozen=True)
class Target:
    text: str
    limit: Callable[[dict[str, float | None]], float | None]  # the bound, from the medians
    higher_is_better: bool = False


def _fixed(v: float) -> Callable[[dict[str, float | None]], float | None]:
    return lambda _m: v


def _scaled(base: str, factor: float, plus: float = 0.0) -> Callable[[dict[str, float | None]], float | None]:
    def limit(m: dict[str, float | None]) -> float | None:
        b = m.get(base)
        return None if b is None else factor * b + plus

    return limit


# Issue 6's targets at 50K PVs (25K pairs), 4 softIocs, on the 2-core machine.
TARGETS: dict[str, Target] = {
    "register_multi_s": Target("≤ 2 s", _fixed(2.0)),
    "monitor_connect_all_s": Target("≤ 0.8 × raw_camonitor_all_s", _scaled("raw_camonitor_all_s", 0.8)),
    "snapshot_cache_s": Target("≤ 0.3 s", _fixed(0.3)),
    "snapshot_direct_s": Target("≤ 0.3 × raw_caget_warm_s + 0.5 s", _scaled("raw_caget_warm_s", 0.3, 0.5)),
    "restore_s": Target("≤ 0.25 × raw_caput_s + 0.5 s", _scaled("raw_caput_s", 0.25, 0.5)),
    "compare_snapshots_s": Target("≤ 0.3 s", _fixed(0.3)),
    "get_snapshot_s": Target("≤ 0.5 s", _fixed(0.5)),
    "list_snapshots_s": Target("≤ 0.05 s", _fixed(0.05)),
    "max_updates_per_s": Target("≥ 30,000", _fixed(30_000.0), higher_is_better=True),
    "sse_p99_latency_ms": Target("≤ 100 ms", _fixed(100.0)),
    "peak_rss_mb": Target("≤ 600 MB", _fixed(600.0)),
    # Issue 15: the console's snapshot view of the same snapshot, in headless chromium (`--ui`).
    "ui_first_rows_ms": Target("≤ 1000 ms", _fixed(1000.0)),
    "ui_filter_ms": Target("≤ 300 ms", _fixed(300.0)),
}


# Issue 16's tighter bounds at 50K PVs: what a lean batched libca client achieves on this machine.
FLOOR_TARGETS: dict[str, Target] = {
    "restore_s": Target("≤ 0.1 × raw_caput_s + 0.3 s", _scaled("raw_caput_s", 0.1, 0.3)),
    "snapshot_direct_s": Target("≤ 0.1 × raw_caget_warm_s + 0.3 s", _scaled("raw_caget_warm_s", 0.1, 0.3)),
    "snapshot_cache_s": Target("≤ 0.15 s", _fixed(0.15)),
}


@dataclass
class Results:
    samples: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in FIGURES + BASELINES})
    errors: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # not measured on purpose (--only, no chromium)
    extras: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, value: float | None) -> None:
        if value is not None:
            self.samples.setdefault(key, []).append(float(value))

    def error(self, key: str, reason: str) -> None:
        # The first reason is usually the root cause; later repeats repeat it.
        self.errors.setdefault(key, reason)

    def skip(self, key: str, reason: str) -> None:
        self.skipped.setdefault(key, reason)

    def median(self, key: str) -> float | None:
        vals = self.samples.get(key) or []
        return statistics.median(vals) if vals else None

    def medians(self) -> dict[str, float | None]:
        return {k: self.median(k) for k in self.samples}


def _round(v: float | None) -> float | None:
    if v is None:
        return None
    return round(v, 4) if abs(v) < 100 else round(v, 1)


def build_json(results: Results, config: dict[str, Any]) -> dict[str, Any]:
    medians = results.medians()
    out: dict[str, Any] = {"config": config}
    for key in FIGURES + BASELINES:
        out[key] = _round(medians.get(key))
        if out[key] is None and key not in results.errors and key not in results.skipped:
            results.error(key, "no sample was measured")
    out["ranges"] = {k: [_round(min(v)), _round(max(v))] if v else None for k, v in results.samples.items() if k in out}
    out["samples"] = {k: [_round(x) for x in v] for k, v in results.samples.items()}
    out["baselines"] = {k: out[k] for k in BASELINES}
    ratios: dict[str, float | None] = {}
    for name, (num, den) in RATIOS.items():
        a, b = medians.get(num), medians.get(den)
        ratios[name] = round(a / b, 3) if a is not None and b else None
    out["ratios"] = ratios
    out["targets"] = _verdicts(TARGETS, medians)
    out["floor_targets"] = _verdicts(FLOOR_TARGETS, medians)
    out["errors"] = dict(results.errors)
    out["skipped"] = {k: v for k, v in results.skipped.items() if out.get(k) is None}
    out["extras"] = results.extras
    return out


def _verdicts(targets: dict[str, Target], medians: dict[str, float | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, target in targets.items():
        value, limit = medians.get(key), target.limit(medians)
        ok = None if value is None or limit is None else (value >= limit if target.higher_is_better else value <= limit)
        out[key] = {"target": target.text, "limit": _round(limit), "pass": ok}
    return out


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


_VERDICT = {True: "PASS", False: "FAIL", None: "n/a"}


def table(report: dict[str, Any]) -> str:
    """The figures as a fixed-width text table (median, range, target, ratio, pass)."""
    ratio_of = {num: name for name, (num, _den) in RATIOS.items() if num != "snapshot_cache_s"}
    rows = [("figure", "median", "range", "target", "ratio", "pass")]
    skipped: dict[str, str] = report.get("skipped", {})
    for key in FIGURES + BASELINES:
        if key in skipped:
            continue
        rng = report["ranges"].get(key)
        target = report["targets"].get(key)
        ratio = report["ratios"].get(ratio_of.get(key, ""), None)
        verdict = "" if target is None else _VERDICT[target["pass"]]
        rows.append(
            (
                key,
                _fmt(report[key]),
                f"{_fmt(rng[0])}–{_fmt(rng[1])}" if rng else "—",
                "" if target is None else target["target"] + (f" ({_fmt(target['limit'])})" if target["limit"] else ""),
                "" if ratio is None else f"{ratio:.2f}×",
                verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    floors = [
        f"{key} {_fmt(report[key])} {t['target']} ({_fmt(t['limit'])}) {_VERDICT[t['pass']]}"
        for key, t in report.get("floor_targets", {}).items()
        if report.get(key) is not None
    ]
    if floors:
        lines.append("libca floor (issue 16, at 50K): " + "; ".join(floors))
    for key, reason in report["errors"].items():
        lines.append(f"! {key}: {reason}")
    by_reason: dict[str, list[str]] = {}
    for key, reason in skipped.items():
        by_reason.setdefault(reason, []).append(key)
    for reason, keys in by_reason.items():
        lines.append(f"- skipped, {reason}: {', '.join(keys)}")
    return "\n".join(lines)
