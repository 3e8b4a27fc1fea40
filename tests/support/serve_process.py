"""A real `squirrel serve` subprocess (api + worker) on a shared database: started, keyed, SIGKILLed, restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def serve_env(database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
    env.update(
        SQUIRREL_DATABASE_URL=database_url,
        SQUIRREL_ROLES="api,worker",
        SQUIRREL_PORT=str(port),
        SQUIRREL_LOG_LEVEL="warning",
        SQUIRREL_LOG_JSON="true",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "squirrel", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def create_key(env: dict[str, str]) -> str:
    """`squirrel keys create` against the same database; the token is alone on the last line."""
    created = subprocess.run(
        [sys.executable, "-m", "squirrel", "keys", "create", "crash-test", "--scopes", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]


async def start_serve(env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    """`squirrel serve` with `env`, once /healthz answers at `url`."""
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


async def wait_job_status(client: httpx.AsyncClient, job_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    """Poll /v1/jobs/{job_id} until it has `status`; the job."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] == status:
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


class ServeProcess:
    """One `serve` on a free port with an admin key; `proc` is the current process (restart() replaces it)."""

    def __init__(self, env: dict[str, str], url: str, token: str, proc: subprocess.Popen[bytes]) -> None:
        self.env, self.url, self.token, self.proc = env, url, token, proc

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"X-API-Key": self.token}, timeout=10)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing runs its shutdown."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def restart(self) -> None:
        self.proc = await start_serve(self.env, self.url)


@asynccontextmanager
async def serve_process(database_url: str) -> AsyncIterator[ServeProcess]:
    """A ServeProcess on `database_url`, killed on exit whatever state it is in."""
    port = free_port()
    env = serve_env(database_url, port)
    token = create_key(env)
    url = f"http://127.0.0.1:{port}"
    served = ServeProcess(env, url, token, await start_serve(env, url))
    try:
        yield served
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
        served.proc.wait(timeout=10)
