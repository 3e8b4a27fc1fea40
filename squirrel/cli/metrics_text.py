"""The service's /metrics text read back as plain figures (the demo waits on them; the bench could too)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def metric_totals(text: str) -> dict[str, float]:
    """Prometheus text -> {sample name: value}, label sets summed (enough for gauges and counters)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out
