"""`squirrel serve` on embedded defaults, and `squirrel keys create` beside it, as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.scratch import scratch_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
    env.update(
        {
            "SQUIRREL_DATA_DIR": str(data_dir),
            "SQUIRREL_LOG_JSON": "true",
            "EPICS_CA_AUTO_ADDR_LIST": "NO",
            "EPICS_CA_ADDR_LIST": "127.0.0.1:1",
        }
    )
    return env


def _squirrel(*args: str) -> list[str]:
    return [sys.executable, "-m", "squirrel", *args]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with scratch_dir("squirrel-e2e-") as path:
        yield path


def test_serve_embedded_ready_and_cli_joins_running_database(data_dir: Path) -> None:
    port = _free_port()
    env = _env(data_dir)
    server = subprocess.Popen(
        _squirrel("serve", "--port", str(port)), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
                if status == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert status == 200, f"/readyz never answered 200 (last {status})"

        created = subprocess.run(
            _squirrel("keys", "create", "e2e-admin", "--scopes", "admin"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip().splitlines()[-1]
        assert token.startswith("sq_")
        r = httpx.get(f"http://127.0.0.1:{port}/v1/api-keys", headers={"X-API-Key": token}, timeout=5)
        assert r.status_code == 200 and [k["appName"] for k in r.json()] == ["e2e-admin"]
        assert token not in (server.stdout.peek() if hasattr(server.stdout, "peek") else "")
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode in (0, -signal.SIGTERM), out  # uvicorn re-raises the signal after a clean stop
    assert "squirrel stopping" in out
    assert "sq_" not in out.replace("sq_***", "")  # tokens are never logged
    assert not (data_dir / "postgres" / "postmaster.pid").exists()  # the embedded server stopped with us
