"""A hung IOC (SIGSTOP): libca still reports its channels connected, but health shows it suspect.

Its TCP circuit stays up, so until libca's echo probe gives up (EPICS_CA_CONN_TMO) the monitor's
entries stay connected. A direct read that times out marks the circuit suspect in
/v1/health/circuits and counts its PVs in /v1/health/summary; a later success clears it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from squirrel.tools.sim import SimHandle
from tests.conftest import Api
from tests.integration.services.snapshots.test_frozen_ioc import Freezer, freezer

pytestmark = pytest.mark.usefixtures("ca_purge")
__all__ = ["freezer"]  # the fixture, imported for this module's tests


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The breaker stays closed: suspect is the state before it (or libca) gives up.
    return {"roles": ["api", "monitor", "worker"], "ca_timeout": 1.5, "breaker_failures": 1000}


async def _circuit(api: Api, port: int) -> dict[str, Any]:
    circuits = (await api.get("/v1/health/circuits")).json()["circuits"]
    found = [c for c in circuits if c["name"].endswith(f":{port}")]
    assert len(found) == 1, circuits
    return found[0]


async def _direct(api: Api) -> dict[str, Any]:
    r = await api.post("/v1/snapshots?async=false&use_cache=false", json={"title": "direct"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_timed_out_direct_reads_mark_a_hung_ioc_suspect_until_it_answers(
    api: Api, restartable_ioc: SimHandle, freezer: Freezer
) -> None:
    body = [{"setpointAddress": p.setpoint, "readbackAddress": p.readback} for p in restartable_ioc.pvs]
    assert (await api.post("/v1/pvs/multi", json=body)).status_code == 201
    n = 2 * len(body)  # addresses (setpoint and readback)
    port = restartable_ioc.iocs[0].port
    async with asyncio.timeout(20):
        while (await api.get("/v1/health/summary")).json()["connected"] < n:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert (await _direct(api))["missingCount"] == 0
    circuit = await _circuit(api, port)
    assert circuit["suspect"] is False and circuit["suspect_since"] is None
    assert (await api.get("/v1/health/summary")).json()["suspect"] == 0

    freezer.freeze()
    assert (await _direct(api))["missingCount"] == len(body)  # every read timed out
    circuit = await _circuit(api, port)
    summary = (await api.get("/v1/health/summary")).json()
    # libca has not given up yet (its probe waits EPICS_CA_CONN_TMO): connected, but suspect.
    assert circuit["suspect"] is True and circuit["state"] == "closed", circuit
    assert summary["connected"] == n and summary["suspect"] == n, summary

    freezer.thaw()
    async with asyncio.timeout(20):
        while (await _direct(api))["missingCount"]:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    assert (await _circuit(api, port))["suspect"] is False
    assert (await api.get("/v1/health/summary")).json()["suspect"] == 0
