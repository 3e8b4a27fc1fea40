"""A database outage answers 503 problems (never 500), /readyz says so, and the service recovers."""

from __future__ import annotations

import asyncio

from tests.conftest import Api
from tests.support.postgres import DatabaseFactory, set_outage


async def test_outage_is_503_and_recovers(api: Api, pg: DatabaseFactory, database_url: str) -> None:
    assert (await api.get("/v1/api-keys")).status_code == 200
    set_outage(pg, database_url, down=True)
    try:
        for _ in range(3):  # the first calls meet the killed connections, later ones a refused connect
            r = await api.get("/v1/api-keys")
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "database" in r.json()["detail"]
        ready = await api.get("/readyz", scope=None)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
    finally:
        set_outage(pg, database_url, down=False)
    for _ in range(50):
        r = await api.get("/v1/api-keys")
        if r.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert r.status_code == 200, r.text
    assert (await api.get("/readyz", scope=None)).status_code == 200
