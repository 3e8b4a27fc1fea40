"""What every test IOC subprocess shares: serve a pvdb on a loopback port and say READY; start and kill it.

libca reads EPICS_CA_ADDR_LIST once per process, before its first CA call, so a test module that runs
its own IOCs lists their ports at import (listed_ports), after tests.support.ioc has set the list.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from typing import Any

from squirrel.tools.sim import free_port


def listed_ports(count: int) -> list[int]:
    """`count` distinct free ports, appended to this process's EPICS_CA_ADDR_LIST."""
    from tests.support import ioc as _ioc  # noqa: F401  (sets EPICS_CA_ADDR_LIST first; we append ours)

    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    listed = " ".join(f"127.0.0.1:{p}" for p in ports)
    os.environ["EPICS_CA_ADDR_LIST"] = f"{os.environ['EPICS_CA_ADDR_LIST']} {listed}"
    return ports


async def serve_pvdb(pvdb: dict[str, Any], port: int) -> None:
    """Serve `pvdb` on 127.0.0.1:`port`; print "READY <port>" once it listens (what IOCProcess waits for)."""
    from caproto.asyncio.server import Context

    logging.getLogger("caproto").setLevel(logging.ERROR)
    ctx = Context(pvdb, interfaces=["127.0.0.1"])
    ctx.ca_server_port = port
    started = asyncio.get_running_loop().create_future()

    async def hook(_: Any) -> None:
        started.set_result(None)

    run = asyncio.create_task(ctx.run(startup_hook=hook))
    await started
    print(f"READY {ctx.port}", flush=True)
    await run


class IOCProcess:
    """A test IOC as a subprocess (`python -m <module> <args>`); stop() kills it (a crash, as clients see it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    def spawn(self, module: str, *args: str, what: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != f"READY {self.port}":
            self.stop()
            raise RuntimeError(f"{what} did not start on {self.port}: {line!r}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
