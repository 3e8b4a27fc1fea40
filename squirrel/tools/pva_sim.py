"""A simulated PVAccess server (p4p, in this process): setpoint/readback double pairs on loopback.

Used by `squirrel sim-ioc --protocol pva|both` and `squirrel bench --protocol pva`. A share of the
readbacks changes ~5 times a second; puts are accepted, time-stamped and posted. The p4p server is
Python-level per PV, so it (not Squirrel) is the floor of any update-rate figure measured against it.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from squirrel.pva.client import PvaUnavailable


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PvaSim:
    def __init__(self, prefix: str, pairs: int, update_fraction: float = 0.0, port: int | None = None) -> None:
        try:
            from p4p.nt import NTScalar
            from p4p.server import Server, StaticProvider
            from p4p.server.thread import SharedPV
        except ImportError as exc:
            raise PvaUnavailable("sim-ioc --protocol pva needs p4p: pip install 'squirrel[pva]'") from exc
        self.prefix = prefix
        self.tcp_port = port or _free_port(socket.SOCK_STREAM)
        self.udp_port = _free_port(socket.SOCK_DGRAM)
        self.pairs = [(f"{prefix}{i:05d}:SP", f"{prefix}{i:05d}:RB") for i in range(pairs)]
        nt = NTScalar("d", display=True, control=True)
        provider = StaticProvider("squirrel-sim")
        self._pvs: dict[str, Any] = {}

        def on_put(pv: Any, op: Any) -> None:
            value = op.value()
            value = getattr(value, "raw", value)
            now = time.time_ns()
            value["timeStamp.secondsPastEpoch"] = now // 10**9
            value["timeStamp.nanoseconds"] = now % 10**9
            pv.post(value)
            op.done()

        stamp = time.time_ns()
        for i, names in enumerate(self.pairs):
            for name in names:
                fields = {
                    "value": float(i),
                    "timeStamp": {"secondsPastEpoch": stamp // 10**9, "nanoseconds": stamp % 10**9},
                    "display": {"units": "mm"},
                    "control": {"limitLow": -1e9, "limitHigh": 1e9},
                }
                pv = SharedPV(nt=nt, initial=nt.type(fields))
                pv.put(on_put)
                provider.add(name, pv)
                self._pvs[name] = pv
        self._updating = [rb for _, rb in self.pairs[: int(len(self.pairs) * update_fraction)]]
        conf = {
            "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
            "EPICS_PVAS_SERVER_PORT": str(self.tcp_port),
            "EPICS_PVAS_BROADCAST_PORT": str(self.udp_port),
            "EPICS_PVAS_BEACON_ADDR_LIST": f"127.0.0.1:{self.udp_port}",
            "EPICS_PVAS_AUTO_BEACON_ADDR_LIST": "NO",
        }
        self._server = Server(providers=[provider], conf=conf, useenv=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._update, name="pva-sim", daemon=True)
        self._thread.start()

    def client_env(self) -> dict[str, str]:
        """EPICS_PVA_* a client needs to find this server (and only it)."""
        return {
            "EPICS_PVA_ADDR_LIST": f"127.0.0.1:{self.udp_port}",
            "EPICS_PVA_AUTO_ADDR_LIST": "NO",
            "EPICS_PVA_BROADCAST_PORT": str(self.udp_port),
        }

    def post(self, name: str, value: float) -> None:
        self._pvs[name].post(value)

    def _update(self) -> None:
        k = 0
        while not self._stop.wait(0.2):
            k += 1
            for rb in self._updating:
                with_value = float(k)
                self._pvs[rb].post(with_value)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._server.stop()
