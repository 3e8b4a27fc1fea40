"""The bench follows a job on its event stream (GET /v1/jobs/{id}/events), as squirrel's clients do: the
ended job comes back whole, and an unknown job is a BenchError naming the HTTP status."""

from __future__ import annotations

from uuid import uuid4

import pytest

from squirrel.tools.bench import figures
from tests.conftest import make_settings
from tests.support.server import run_server
from tests.support.snapshots import WORKER


async def test_a_snapshot_job_is_followed_to_its_end_and_an_unknown_one_refused(database_url: str) -> None:
    async with run_server(make_settings(database_url, **WORKER)) as server, server.client("admin") as client:
        body = [{"setpointAddress": f"BJ:{i}"} for i in range(5)]
        assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
        times: list[dict[str, float]] = []
        elapsed, snapshot_id = await figures.take_snapshot(client, "followed", False, 30.0, times)
        assert (await client.get(f"/v1/snapshots/{snapshot_id}")).json()["pvCount"] == 5
        (split,) = times
        assert split["end_to_end_s"] == pytest.approx(elapsed, abs=1e-3)
        assert split["run_s"] > 0 and split["http_and_polling_s"] >= 0
        with pytest.raises(figures.BenchError, match=r"GET /v1/jobs/\{id\}/events: HTTP 404"):
            await figures.wait_ended(client, str(uuid4()), 10.0)
