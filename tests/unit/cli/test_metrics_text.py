"""/metrics text read back as figures (what `squirrel demo` waits on)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from squirrel.cli.metrics_text import metric_totals


def test_metric_totals_sums_label_sets() -> None:
    text = (
        "# HELP squirrel_pvs_connected x\n"
        "# TYPE squirrel_pvs_connected gauge\n"
        "squirrel_pvs_connected 42.0\n"
        'squirrel_live_clients{transport="sse"} 2.0\n'
        'squirrel_live_clients{transport="ws"} 1.0\n'
        "squirrel_pv_updates_total 1.5e+06\n"
    )
    m = metric_totals(text)
    assert m == {"squirrel_pvs_connected": 42.0, "squirrel_live_clients": 3.0, "squirrel_pv_updates_total": 1.5e6}


def test_metric_totals_reads_what_prometheus_client_writes() -> None:
    registry = CollectorRegistry()
    Gauge("squirrel_pvs_connected", "connected", ["protocol"], registry=registry).labels("ca").set(7)
    Counter("squirrel_updates", "updates", registry=registry).inc(3)
    m = metric_totals(generate_latest(registry).decode())
    assert m["squirrel_pvs_connected"] == 7.0 and m["squirrel_updates_total"] == 3.0


def test_metric_totals_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        metric_totals("<html>not metrics</html>\n")
