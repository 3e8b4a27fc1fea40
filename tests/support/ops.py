"""A real `squirrel serve` (subprocess) beside a caproto IOC, and a runner for `squirrel` CLI verbs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from squirrel.tools.sim import SimHandle, start_sim
from squirrel.tools.sim import free_port as free_ca_port
from tests.support.ioc import RESTART_PORT
from tests.support.restore_ioc import RestoreIOC
from tests.support.scratch import scratch_dir

PREFIX = "OPS:"
GHOST = "OPS:GHOST:SP"  # registered, served by no IOC: always missing

# Pairs 0, 7, 8 (double, long, double) are in Area=LINAC; the enum pair 1 in Area=RING; the ghost PV
# is in Section=LINAC, so a bare `LINAC` is ambiguous.
REGISTRY_CSV = f"""Setpoint,Readback,Device,Description,Area,Section
{PREFIX}00:P00000:SP,{PREFIX}00:P00000:RB,DEV0,double pair,LINAC,
{PREFIX}00:P00007:SP,{PREFIX}00:P00007:RB,DEV0,long pair,LINAC,
{PREFIX}00:P00008:SP,{PREFIX}00:P00008:RB,DEV0,double pair,LINAC,
{PREFIX}00:P00001:SP,{PREFIX}00:P00001:RB,DEV1,enum pair,RING,
{GHOST},,GHOST,never connects,,LINAC
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.stdout.strip(), f"no JSON on stdout; stderr:\n{self.stderr}"
        return json.loads(self.stdout)  # exactly one document, nothing else on stdout

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    env: dict[str, str]
    data_dir: Path

    def cli_env(self, key: str | None = "admin", **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
        env["SQUIRREL_URL"] = self.url
        if key is not None:
            env["SQUIRREL_API_KEY"] = self.tokens[key]
        env["COLUMNS"] = "200"
        env.update(extra)
        return env

    def cli(self, *args: str, key: str | None = "admin", input: str | None = None, **extra: str) -> Result:
        """Run `squirrel ARGS` against this server with the key of `key` (None: no key)."""
        proc = subprocess.run(
            [sys.executable, "-m", "squirrel", *args],
            env=self.cli_env(key, **extra),
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=180,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, key: str = "admin") -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "squirrel", *args],
            env=self.cli_env(key),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def start_ioc() -> SimHandle:
    """20 pairs on the restartable test port (tests.support.ioc lists it in this process's CA address list)."""
    return start_sim(40, 1, PREFIX, ports=[RESTART_PORT], update_fraction=0.0, special=False)


def start_slow_ioc() -> RestoreIOC:
    """An IOC whose `OPSR:slow` takes 2 s to complete a put: a restore that lasts long enough to interrupt."""
    slow = RestoreIOC("OPSR:", free_ca_port())
    slow.start()
    return slow


def run_server(ca_addr_list: str) -> Iterator[Server]:
    with scratch_dir("squirrel-ops-") as data_dir:
        yield from _serve(data_dir, ca_addr_list)


def _serve(data_dir: Path, ca_addr_list: str) -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
    env.update(
        SQUIRREL_DATA_DIR=str(data_dir),
        SQUIRREL_LOG_JSON="true",
        SQUIRREL_CA_TIMEOUT="2",
        SQUIRREL_CA_PUT_TIMEOUT="3",
        EPICS_CA_AUTO_ADDR_LIST="NO",
        EPICS_CA_ADDR_LIST=ca_addr_list,
    )
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "squirrel", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (data_dir / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "squirrel serve never became ready"
            time.sleep(0.3)
        tokens = {}
        for scope in ("read", "admin"):
            made = subprocess.run(
                [sys.executable, "-m", "squirrel", "keys", "create", f"ops-{scope}", "--scopes", scope],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert made.returncode == 0, made.stderr
            tokens[scope] = made.stdout.strip().splitlines()[-1]
        yield Server(url, tokens, env, data_dir)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def ops_fixtures() -> tuple[Any, Any, Any]:
    """The module-scoped `ioc`, `slow_ioc` and `server` fixtures of a test module that drives one such server:
    `ioc, slow_ioc, server = ops_fixtures()`."""

    @pytest.fixture(scope="module")
    def ioc() -> Iterator[SimHandle]:
        handle = start_ioc()
        yield handle
        handle.stop()

    @pytest.fixture(scope="module")
    def slow_ioc() -> Iterator[RestoreIOC]:
        handle = start_slow_ioc()
        yield handle
        handle.stop()

    @pytest.fixture(scope="module")
    def server(ioc: SimHandle, slow_ioc: RestoreIOC) -> Iterator[Server]:
        yield from run_server(f"{ioc.addr_list} 127.0.0.1:{slow_ioc.port}")

    return ioc, slow_ioc, server
