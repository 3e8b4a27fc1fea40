"""The bench follows a job on its event stream (GET /v1/jobs/{id}/events), as squirrel's clients do: the
ended job comes back whole, and an unknown job is a BenchError naming the HTTP status. A snapshot that
saved a PV without a value gives no figure: every bench PV is served, so it measured less than asked."""

from __future__ import annotations

from uuid import uuid4

import pytest

from squirrel.tools.bench import figures
from squirrel.tools.sim import SimHandle
from tests.conftest import make_settings
from tests.support.server import run_server
from tests.support.snapshots import WORKER

pytestmark = pytest.mark.usefixtures("ca_purge")


async def test_a_snapshot_job_is_followed_to_its_end_and_an_unknown_one_refused(
    database_url: str, sim_ioc: SimHandle
) -> None:
    async with run_server(make_settings(database_url, **WORKER)) as server, server.client("admin") as client:
        body = [{"setpointAddress": p.setpoint} for p in sim_ioc.pvs[:5]]
        assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
        times: list[dict[str, float]] = []
        elapsed, snapshot_id = await figures.take_snapshot(client, "followed", False, 30.0, times)
        assert (await client.get(f"/v1/snapshots/{snapshot_id}")).json()["pvCount"] == 5
        (split,) = times
        assert split["end_to_end_s"] == pytest.approx(elapsed, abs=1e-3)
        assert split["run_s"] > 0 and split["http_and_polling_s"] >= 0
        with pytest.raises(figures.BenchError, match=r"GET /v1/jobs/\{id\}/events: HTTP 404"):
            await figures.wait_ended(client, str(uuid4()), 10.0)


async def test_a_snapshot_that_saved_a_pv_without_a_value_gives_no_figure(database_url: str) -> None:
    async with run_server(make_settings(database_url, **WORKER)) as server, server.client("admin") as client:
        body = [{"setpointAddress": f"BJ:NOWHERE:{i}"} for i in range(3)]
        assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
        with pytest.raises(figures.BenchError, match=r"saved 3 of 3 PVs without a value .*: no figure"):
            await figures.take_snapshot(client, "incomplete", False, 30.0)
