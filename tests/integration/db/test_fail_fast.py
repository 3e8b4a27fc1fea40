"""With the database down, no request waits the pool's full timeout: not the first after the failure, and
not the first once the outage has outlived the pool's memory of it (real PostgreSQL refusing connections)."""

from __future__ import annotations

import asyncio
import time

import pytest

from squirrel.db import pool as pool_module
from tests.conftest import Api
from tests.support.postgres import DatabaseFactory, set_outage

FAST = 3.0  # seconds; the pool's own wait is REQUEST_TIMEOUT (10 s)


async def _timed_get(api: Api, url: str) -> tuple[int, float]:
    started = time.monotonic()
    r = await api.get(url)
    return r.status_code, time.monotonic() - started


async def test_every_request_fails_fast_during_a_long_outage(
    api: Api, pg: DatabaseFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await api.get("/v1/api-keys")).status_code == 200
    monkeypatch.setattr(pool_module, "OUTAGE_MEMORY", 0.5)  # an outage that outlives the pool's memory of it
    set_outage(pg, database_url, down=True)
    try:
        for _ in range(4):  # the killed pooled connections, then connects that are refused
            status, took = await _timed_get(api, "/v1/api-keys")
            assert status == 503 and took < FAST, (status, took)
        await asyncio.sleep(0.6)  # the pool no longer remembers the failure: the next request must find out fast
        status, took = await _timed_get(api, "/v1/api-keys")
        assert status == 503 and took < FAST, (status, took)
        status, took = await _timed_get(api, "/readyz")
        assert status == 503 and took < FAST, (status, took)
    finally:
        set_outage(pg, database_url, down=False)
    deadline = time.monotonic() + 15
    while (await api.get("/v1/api-keys")).status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover"
        await asyncio.sleep(0.2)
