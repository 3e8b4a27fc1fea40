"""Direct snapshots (use_cache=false) of an IOC that is frozen (SIGSTOP), slow, or drops mid-read.

A frozen IOC keeps its circuits (TCP stays up) but answers nothing: the read must end at its one
deadline and the snapshot must say so (missing counts), not store silent nulls. An answer that comes
late but before the deadline is saved, and so is one from a channel that dropped and came back.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from squirrel.tools.sim import SimHandle, SimIOC
from tests.conftest import Api
from tests.support.snapshots import wait_job

pytestmark = pytest.mark.usefixtures("ca_purge")
# Breaker off for these tests: a frozen IOC must show up as missing values, not as an open circuit.
BASE = {"roles": ["api", "worker"], "breaker_failures": 1000}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {**BASE, "ca_timeout": 1.5}


class Freezer:
    def __init__(self, ioc: SimIOC) -> None:
        self.ioc = ioc
        self.frozen = False

    def freeze(self) -> None:
        assert self.ioc.proc is not None
        os.kill(self.ioc.proc.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.ioc.proc is not None:
            os.kill(self.ioc.proc.pid, signal.SIGCONT)
        self.frozen = False


@pytest.fixture
def freezer(restartable_ioc: SimHandle) -> Iterator[Freezer]:
    f = Freezer(restartable_ioc.iocs[0])
    yield f
    f.thaw()


async def _register(api: Api, ioc: SimHandle) -> int:
    body = [{"setpointAddress": p.setpoint, "readbackAddress": p.readback} for p in ioc.pvs]
    r = await api.post("/v1/pvs/multi", json=body)
    assert r.status_code == 201, r.text
    return len(body)


async def _direct(api: Api, query: str = "") -> Any:
    return await api.post(f"/v1/snapshots?async=false&use_cache=false{query}", json={"title": "direct"})


async def _complete_first(api: Api, count: int) -> None:
    """A first read connects the channels (the pool keeps them a grace period after the read)."""
    r = await _direct(api)
    assert r.status_code == 201 and r.json()["pvCount"] == count and r.json()["missingCount"] == 0, r.text


async def _frozen_after_a_complete_read(api: Api, ioc: SimHandle, freezer: Freezer) -> int:
    """The PVs registered and read completely once, then the IOC frozen; returns the PV count."""
    n = await _register(api, ioc)
    await _complete_first(api, n)
    freezer.freeze()
    return n


async def test_frozen_ioc_gives_missing_counts_not_silent_nulls(
    api: Api, restartable_ioc: SimHandle, freezer: Freezer
) -> None:
    n = await _frozen_after_a_complete_read(api, restartable_ioc, freezer)

    r = await _direct(api)
    assert r.status_code == 201, r.text
    summary = r.json()
    assert summary["missingCount"] == n and summary["missing"] == {"disconnected": 0, "noValue": n, "stale": 0}
    values = (await api.get(f"/v1/snapshots/{summary['id']}")).json()["pvValues"]
    # Connected (the circuit is up) but no value came: stored as exactly that.
    assert all(v["setpointValue"]["value"] is None and v["setpointValue"]["connected"] for v in values)

    r = await _direct(api, "&requireComplete=true")
    assert r.status_code == 409, r.text
    assert r.json()["missingCount"] == n and r.json()["missing"]["noValue"] == n

    r = await api.post("/v1/snapshots?use_cache=false", json={"title": "direct job"})
    job = await wait_job(api, r.json()["jobId"])
    assert job["status"] == "completed", job
    assert job["warnings"] == [f"{n} of {n} PVs saved without a value: {n} no value"], job
    assert f"{n} without a value: {n} no value" in job["message"], job
    listed = (await api.get("/v1/snapshots")).json()
    assert [s["missingCount"] for s in listed] == [n, n, 0]  # the refused one stored nothing


def _later(delay: float, action: Callable[[], None]) -> threading.Timer:
    """Run `action` from a thread: the test client blocks this loop while a request is in flight."""
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


@pytest.mark.parametrize("settings_overrides", [{**BASE, "ca_timeout": 10.0}])
async def test_a_late_answer_within_the_deadline_is_saved(
    api: Api, restartable_ioc: SimHandle, freezer: Freezer
) -> None:
    await _frozen_after_a_complete_read(api, restartable_ioc, freezer)
    thaw = _later(1.5, freezer.thaw)
    r = await _direct(api)
    thaw.join()
    assert r.status_code == 201 and r.json()["missingCount"] == 0, r.text
    values = (await api.get(f"/v1/snapshots/{r.json()['id']}")).json()["pvValues"]
    assert all(v["setpointValue"]["connected"] and v["setpointValue"]["value"] is not None for v in values)


@pytest.mark.parametrize("settings_overrides", [{**BASE, "ca_timeout": 40.0}])
async def test_a_channel_that_drops_mid_read_is_asked_again_after_it_reconnects(
    api: Api, restartable_ioc: SimHandle, freezer: Freezer
) -> None:
    n = await _register(api, restartable_ioc)
    await _complete_first(api, n)
    ioc = restartable_ioc.iocs[0]

    def crash_and_restart() -> None:
        freezer.frozen = False
        ioc.stop()  # the circuit drops: libca answers the outstanding requests ECA_DISCONN
        time.sleep(0.5)
        ioc.start()  # and the IOC is back on the same port well before the deadline

    freezer.freeze()  # the requests go out and stay unanswered...
    restart = _later(1.0, crash_and_restart)
    r = await _direct(api)
    restart.join()
    assert r.status_code == 201, r.text
    assert r.json()["missingCount"] == 0, r.json()
    values = (await api.get(f"/v1/snapshots/{r.json()['id']}")).json()["pvValues"]
    assert all(v["readbackValue"]["connected"] and v["readbackValue"]["value"] is not None for v in values)
