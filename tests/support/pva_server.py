"""A p4p PVAccess test server of every normative type Squirrel stores, run as a restartable subprocess.

`python -m tests.support.pva_server PREFIX TCP_PORT UDP_PORT` serves on 127.0.0.1 only and prints
"ready" once listening; puts are accepted, time-stamped now and posted (so a monitor sees them).
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCALARS = {
    "DOUBLE": ("d", 1.5),
    "FLOAT": ("f", -2.25),
    "BYTE": ("b", -100),
    "UBYTE": ("B", 200),
    "SHORT": ("h", -30000),
    "USHORT": ("H", 60000),
    "INT": ("i", -2_000_000_000),
    "UINT": ("I", 4_000_000_000),
    "LONG": ("l", 2**53 + 1),
    "ULONG": ("L", 2**64 - 1),
    "BOOL": ("?", True),
    "STRING": ("s", "hello PVA"),
    "NAN": ("d", math.nan),
    "ADOUBLE": ("ad", [1.25, math.nan, math.inf, -math.inf, -0.5]),
    "AFLOAT": ("af", [0.5, -1.5]),
    "ABYTE": ("ab", [-128, 0, 127]),
    "AUBYTE": ("aB", [0, 255]),
    "ASHORT": ("ah", [-32768, 32767]),
    "AUSHORT": ("aH", [0, 65535]),
    "AINT": ("ai", [-(2**31), 2**31 - 1]),
    "AUINT": ("aI", [0, 2**32 - 1]),
    "ALONG": ("al", [-(2**63), 2**63 - 1]),
    "AULONG": ("aL", [0, 2**64 - 1]),
    "ABOOL": ("a?", [True, False, True]),
    "ASTRING": ("as", ["a", "", "c d"]),
}
TIME_NS = 1_700_000_000_123_456_789  # the initial timeStamp of every PV (nanoseconds matter)


def serve(prefix: str, tcp_port: int, udp_port: int) -> None:
    from p4p.nt import NTEnum, NTScalar, NTTable
    from p4p.server import Server, StaticProvider
    from p4p.server.thread import SharedPV

    stamp = {"secondsPastEpoch": TIME_NS // 10**9, "nanoseconds": TIME_NS % 10**9}
    provider = StaticProvider("squirrel-test")
    pvs: list[Any] = []

    def on_put(pv: Any, op: Any) -> None:
        value = op.value()
        value = getattr(value, "raw", value)  # the Value under p4p's unwrapped ntfloat/ntenum/ndarray
        now = time.time_ns()
        value["timeStamp.secondsPastEpoch"] = now // 10**9
        value["timeStamp.nanoseconds"] = now % 10**9
        pv.post(value)
        op.done()

    def add(name: str, nt: Any, initial: Any) -> None:
        pv = SharedPV(nt=nt, initial=initial)
        pv.put(on_put)
        provider.add(prefix + name, pv)
        pvs.append(pv)

    for name, (code, value) in SCALARS.items():
        meta = not code.startswith("a") and code not in ("s", "?")
        nt = NTScalar(code, display=meta, control=meta, valueAlarm=meta)
        fields: dict[str, Any] = {"value": value, "timeStamp": stamp}
        if name == "DOUBLE":
            fields["alarm"] = {"severity": 1, "status": 3, "message": "HIGH"}
            fields["display"] = {"units": "mm", "limitLow": -10.0, "limitHigh": 10.0}
            fields["control"] = {"limitLow": -100.0, "limitHigh": 100.0}
            fields["valueAlarm"] = {"highAlarmLimit": 1.0}
        add(name, nt, nt.type(fields))
    enum = NTEnum(display=False)
    add("ENUM", enum, enum.type({"value": {"index": 1, "choices": ["Off", "On", "Fault"]}, "timeStamp": stamp}))
    table = NTTable(columns=[("a", "i"), ("b", "s")])
    add("TABLE", table, table.wrap([{"a": 1, "b": "x"}]))
    conf = {
        "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_PVAS_SERVER_PORT": str(tcp_port),
        "EPICS_PVAS_BROADCAST_PORT": str(udp_port),
        "EPICS_PVAS_BEACON_ADDR_LIST": f"127.0.0.1:{udp_port}",
        "EPICS_PVAS_AUTO_BEACON_ADDR_LIST": "NO",
    }
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with Server(providers=[provider], conf=conf, useenv=False):
        print("ready", flush=True)
        done.wait()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PvaServer:
    """The server subprocess, restartable on the same ports (a PVA client reconnects by itself)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.tcp_port = free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.proc: subprocess.Popen[str] | None = None

    def client_env(self) -> dict[str, str]:
        return {
            "EPICS_PVA_ADDR_LIST": f"127.0.0.1:{self.udp_port}",
            "EPICS_PVA_AUTO_ADDR_LIST": "NO",
            "EPICS_PVA_BROADCAST_PORT": str(self.udp_port),
            "EPICS_PVA_SERVER_PORT": str(self.tcp_port),
        }

    def start(self) -> None:
        args = [sys.executable, "-m", "tests.support.pva_server", self.prefix, str(self.tcp_port), str(self.udp_port)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env={**os.environ})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"PVA test server did not start: {line!r}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))


@contextmanager
def client_env(server: PvaServer) -> Iterator[None]:
    """Point the process-wide p4p client at `server` (it reads EPICS_PVA_* when created), then restore."""
    from squirrel.pva import client

    saved = {k: os.environ.get(k) for k in server.client_env()}
    os.environ.update(server.client_env())
    client.close()
    try:
        yield
    finally:
        client.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
