"""SIGKILL of `squirrel serve` in the middle of a snapshot job: exactly one snapshot after the restart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_jobs import _snapshot_count, _wait_blocked, snapshot_table_locked

ROOT = Path(__file__).resolve().parents[2]


def _env(database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
    env.update(
        SQUIRREL_DATABASE_URL=database_url,
        SQUIRREL_ROLES="api,worker",
        SQUIRREL_PORT=str(port),
        SQUIRREL_LOG_LEVEL="warning",
        SQUIRREL_LOG_JSON="true",
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "squirrel", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def _create_key(env: dict[str, str]) -> str:
    """`squirrel keys create` against the same database; the token is alone on the last line."""
    created = subprocess.run(
        [sys.executable, "-m", "squirrel", "keys", "create", "crash-test", "--scopes", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]


async def _serve(env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    proc = _spawn(env)
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=url) as client:
        while True:
            assert proc.poll() is None, "squirrel serve exited"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "squirrel serve did not start"
            await asyncio.sleep(0.1)


async def _job(client: httpx.AsyncClient, job_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] == status:
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def test_sigkill_mid_job_yields_exactly_one_snapshot(database_url: str) -> None:
    port = _free_port()
    env = _env(database_url, port)
    token = _create_key(env)
    url = f"http://127.0.0.1:{port}"
    proc = await _serve(env, url)
    try:
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": token}, timeout=10) as client:
            body = [{"setpointAddress": f"K:{i}:SP", "readbackAddress": f"K:{i}:RB"} for i in range(30)]
            assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
            async with snapshot_table_locked(database_url) as lock:
                job_id = (await client.post("/v1/snapshots", json={"title": "crash"})).json()["jobId"]
                await _job(client, job_id, "running")
                await _wait_blocked(lock)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
            proc = await _serve(env, url)
            job = await _job(client, job_id, "completed")
            assert job["attempt"] == 2 and job["result"]["pvCount"] == 30
            assert await _snapshot_count(database_url) == (1, 0)
            # The recovered run and any late SAQ re-delivery of the killed attempt do not add a second one.
            await asyncio.sleep(1.0)
            assert await _snapshot_count(database_url) == (1, 0)
            snaps = (await client.get("/v1/snapshots")).json()
            assert [s["id"] for s in snaps] == [job["resultId"]]
    finally:
        proc.kill()
        proc.wait(timeout=10)
