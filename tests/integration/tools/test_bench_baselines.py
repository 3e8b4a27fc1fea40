"""Raw aioca baselines on a real IOC: camonitor until every first value, caget cold/warm, caput of what is
there; missing PVs are counted, not hidden; the module's entry point prints one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from squirrel.tools.bench import baselines
from squirrel.tools.sim import SimHandle

pytestmark = pytest.mark.usefixtures("ca_purge")


async def test_camonitor_all_times_the_first_values(sim_ioc: SimHandle) -> None:
    out = await baselines.camonitor_all(sim_ioc.addresses()[:10])
    assert out["missing"] == 0 and isinstance(out["raw_camonitor_all_s"], float)


async def test_camonitor_all_reports_pvs_that_never_answer(sim_ioc: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baselines, "TIMEOUT", 0.5)
    out = await baselines.camonitor_all([sim_ioc.addresses()[0], "NOPE:base0", "NOPE:base1"])
    assert out == {"raw_camonitor_all_s": None, "missing": 2}  # no time for an incomplete run


async def test_get_put_writes_back_what_is_there(sim_ioc: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baselines, "TIMEOUT", 0.5)
    x = sim_ioc.special
    before = await baselines.get_put([x["double"]], [])
    addresses = [x["double"], x["long"], "NOPE:base2"]
    out = await baselines.get_put(addresses, [x["double"], x["long"], "NOPE:base2", x["string"]])
    assert out["caget_failures"] == 1
    # The dead setpoint and one never read (not in the addresses) are failures, not puts.
    assert out["caput_failures"] == 2
    assert all(isinstance(out[k], float) for k in ("raw_caget_cold_s", "raw_caget_warm_s", "raw_caput_s"))
    assert before["caget_failures"] == 0 and before["caput_failures"] == 0


def test_the_entry_point_prints_one_json_object(sim_ioc: SimHandle, tmp_path: Path) -> None:
    addresses, setpoints = tmp_path / "addresses", tmp_path / "setpoints"
    addresses.write_text("\n".join(sim_ioc.addresses()[:6]))
    setpoints.write_text("\n".join(sim_ioc.addresses()[:2]))
    done = subprocess.run(
        [sys.executable, "-m", "squirrel.tools.bench.baselines", "monitor", str(addresses), str(setpoints)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["missing"] == 0 and out["raw_camonitor_all_s"] > 0
