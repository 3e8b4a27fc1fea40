"""`squirrel demo` as a real process: key printed, one snapshot, clean Ctrl-C, and a second run reuses data."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.scratch import scratch_dir

KEY_LINE = re.compile(r"admin API key: (sq_\S+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    """One `squirrel demo` subprocess whose output is collected by a thread."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SQUIRREL_", "EPICS_CA_"))}
        env.update(SQUIRREL_DATA_DIR=str(data_dir), SQUIRREL_LOG_JSON="true")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "squirrel", "demo", "--pvs", "200", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.token: str | None = None
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if "Ctrl-C stops everything" in line:
                self.ready.set()
            m = KEY_LINE.search(line)
            if m:
                self.token = m.group(1)
        self.ready.set()

    def wait_ready(self, timeout: float = 150.0) -> str:
        assert self.ready.wait(timeout), "demo printed nothing usable:\n" + self.output()
        assert self.token is not None, "demo did not print an admin key:\n" + self.output()
        return self.token

    def interrupt(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("demo did not stop within 60 s of SIGINT:\n" + self.output()) from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def output(self) -> str:
        return "".join(self.lines)[-4000:]


def _snapshots(body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    for key in ("results", "items", "snapshots"):
        if isinstance(body.get(key), list):
            return list(body[key])
    raise AssertionError(f"unexpected snapshot list shape: {body!r}"[:500])


def _printed_cli_lines_work(output: str, port: int, token: str) -> None:
    """The demo prints CLI lines (not curl), the console URL and how to reach its IOCs; the CLI lines run."""
    assert "curl" not in output
    assert f"http://127.0.0.1:{port}/ui/" in output and "caproto-put DEMO:" in output
    assert f"export SQUIRREL_URL=http://127.0.0.1:{port} SQUIRREL_API_KEY={token}" in output
    env = {**os.environ, "SQUIRREL_URL": f"http://127.0.0.1:{port}", "SQUIRREL_API_KEY": token}
    listed = subprocess.run(
        [sys.executable, "-m", "squirrel", "snapshot", "list", "--json"], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) >= 1


def _state(port: int, token: str) -> tuple[int, int]:
    """(registered PV rows, stored snapshots) as the API reports them."""
    headers = {"X-API-Key": token}
    base = f"http://127.0.0.1:{port}"
    pvs = httpx.get(f"{base}/v1/pvs/paged", params={"pageSize": 1}, headers=headers, timeout=30)
    assert pvs.status_code == 200, pvs.text
    snaps = httpx.get(f"{base}/v1/snapshots", headers=headers, timeout=30)
    assert snaps.status_code == 200, snaps.text
    return int(pvs.json()["totalCount"]), len(_snapshots(snaps.json()))


@pytest.mark.timeout(400)
def test_demo_starts_snapshots_stops_cleanly_and_reuses_its_data() -> None:
    with scratch_dir("squirrel-demo-") as data_dir:
        _demo_twice(data_dir)


def _demo_twice(data_dir: Path) -> None:
    port = _free_port()

    first = Demo(data_dir, port)
    try:
        token = first.wait_ready()
        pv_count, snapshots = _state(port, token)
        assert pv_count == 100, first.output()  # 200 PVs = 100 setpoint/readback rows
        _printed_cli_lines_work(first.output(), port, token)
        assert snapshots == 1, first.output()
        assert (data_dir / "demo-admin.token").stat().st_mode & 0o777 == 0o600
        assert first.interrupt() == 0, first.output()
        assert "stopped." in first.output()
    finally:
        first.kill()

    time.sleep(0.5)
    second = Demo(data_dir, port)
    try:
        again = second.wait_ready()
        assert again == token, "the second run must reuse the stored demo key"
        assert "registered 0 new PV pairs (100 already there)" in second.output()
        pv_count, snapshots = _state(port, again)
        assert pv_count == 100
        assert snapshots >= 1
        assert second.interrupt() == 0, second.output()
    finally:
        second.kill()
