"""Schemathesis over every operation of the served OpenAPI document, as part of the normal suite.

A short bounded run (a few cases per operation and phase, all checks but positive_data_acceptance)
against a real `squirrel serve`; the long run (>= 5,000 cases) is the README's command. Any server
error, undocumented status or media type, or response breaking its schema fails the test.
"""

from __future__ import annotations

import re

import pytest

from tests.contract.run_schemathesis import main

pytestmark = pytest.mark.contract


@pytest.mark.timeout(600)
def test_schemathesis_finds_no_failure(capfd: pytest.CaptureFixture[str]) -> None:
    status = main(["--max-examples", "8", "--seed", "14"])
    out, err = capfd.readouterr()
    assert status == 0, (out + err)[-20000:]
    counts = re.search(r"(\d+) selected / (\d+) total", out)
    assert counts, out[-2000:]
    selected, total = int(counts[1]), int(counts[2])
    assert selected == total - 3  # every operation but the two endless streams and key revocation
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅  {phase}" in out or f"✅ {phase}" in out, phase
