"""The soak's RSS slope: a least-squares line in units per hour, fitted after the warm-up."""

from __future__ import annotations

import pytest

from squirrel.tools.bench.soak import fit_window, slope_per_hour, soak_table


def test_slope_is_per_hour_and_ignores_noise_around_a_flat_line() -> None:
    assert slope_per_hour([(t * 10.0, 100.0 + t * 0.01) for t in range(100)]) == pytest.approx(3.6)
    flat = [(t * 10.0, 100.0 + (1 if t % 2 else -1)) for t in range(360)]
    assert abs(slope_per_hour(flat) or 0.0) < 0.1
    assert slope_per_hour([(0.0, 1.0), (10.0, 2.0)]) is None  # too few samples to fit


def test_fit_starts_after_five_minutes_or_halfway_through_a_short_run() -> None:
    assert fit_window(3600.0) == 300.0
    assert fit_window(600.0) == 300.0
    assert fit_window(120.0) == 60.0


def test_table_shows_slope_verdict_and_descriptors() -> None:
    soak = {
        "minutes": 30.0,
        "fit_from_s": 300.0,
        "rss_slope_mb_per_h": 7.5,
        "rss_slope_goal_mb_per_h": 5.0,
        "rss_mb_start_end": [100.0, 104.0],
        "rss_mb_max": 104.0,
        "fds_start_end_max": [30, 31, 33],
        "fds_slope_per_h": 0.0,
        "offered_updates_per_s": 10000.0,
        "sse_clients": 10,
        "live_polls": 1800,
        "snapshots": 30,
    }
    text = soak_table({"extras": {"soak": soak}, "errors": {"soak_fds_end": "boom"}})
    assert "7.5 MB/h (goal ≤ 5.0) FAIL" in text and "30 → 31 (max 33" in text and "! soak_fds_end: boom" in text
