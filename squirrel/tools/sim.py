"""caproto simulator: setpoint/readback pairs over K IOCs, each a subprocess on its own loopback CA port.

Used by `squirrel sim-ioc`, the tests, the demo and the bench. A share of readbacks updates at
1-10 Hz (values wander into the MINOR/MAJOR alarm bands), and the mix has enums, strings, double and
char waveforms, slow put-completion PVs and read-only PVs. IOC 0 can also serve a small special set
(`special_names(prefix)`) that tests use by name.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

SLOW_PUT_DELAY = 0.5
SPECIAL = ("double", "nan", "long", "enum", "string", "wave", "chars", "slow", "ro", "alarm", "short", "float")
ENUM_LABELS = ["Off", "On", "Fault", "Standby"]


@dataclass(frozen=True)
class SimPV:
    setpoint: str
    readback: str
    device: str
    description: str
    kind: str


def pair_kind(i: int) -> str:
    """What pair i of an IOC serves; a fixed mix so every run has the same shape."""
    for mod, rem, kind in ((1000, 5, "slow"), (1000, 6, "ro"), (500, 3, "wave"), (500, 4, "chars")):
        if i % mod == rem:
            return kind
    for mod, rem, kind in ((50, 1, "enum"), (50, 2, "string"), (25, 7, "long")):
        if i % mod == rem:
            return kind
    return "double"


def pair_names(prefix: str, ioc: int, i: int) -> tuple[str, str]:
    base = f"{prefix}{ioc:02d}:P{i:05d}"
    return f"{base}:SP", f"{base}:RB"


def special_names(prefix: str) -> dict[str, str]:
    return {kind: f"{prefix}X:{kind}" for kind in SPECIAL}


def split_pairs(pvs: int, iocs: int) -> list[int]:
    pairs = max(1, pvs // 2)
    return [pairs // iocs + (1 if k < pairs % iocs else 0) for k in range(iocs)]


def pv_list(prefix: str, pairs_per_ioc: list[int]) -> list[SimPV]:
    out = []
    for ioc, n in enumerate(pairs_per_ioc):
        for i in range(n):
            sp, rb = pair_names(prefix, ioc, i)
            kind = pair_kind(i)
            out.append(SimPV(sp, rb, f"{prefix}{ioc:02d}:DEV{i // 50:03d}", f"simulated {kind} pair {i}", kind))
    return out


# --- the IOC process ------------------------------------------------------------------------------
@functools.cache
def _special_classes() -> tuple[Any, Any]:
    import caproto

    class SlowDouble(caproto.ChannelDouble):  # type: ignore[misc]
        async def verify_value(self, data: Any) -> Any:
            await asyncio.sleep(SLOW_PUT_DELAY)
            return await super().verify_value(data)

    class ReadOnlyDouble(caproto.ChannelDouble):  # type: ignore[misc]
        def check_access(self, hostname: str, username: str) -> Any:
            return caproto.AccessRights.READ

    return SlowDouble, ReadOnlyDouble


def _channels(kind: str, value_seed: float, readback: bool) -> Any:
    import caproto

    slow_double, read_only_double = _special_classes()
    limits = {
        "upper_warning_limit": 80.0, "upper_alarm_limit": 90.0,
        "lower_warning_limit": -80.0, "lower_alarm_limit": -90.0,
        "upper_disp_limit": 100.0, "lower_disp_limit": -100.0,
    }  # fmt: skip
    if kind == "enum":
        return caproto.ChannelEnum(value=ENUM_LABELS[int(value_seed) % 4], enum_strings=ENUM_LABELS)
    if kind == "string":
        return caproto.ChannelString(value=f"text {int(value_seed)}")
    if kind == "long":
        return caproto.ChannelInteger(value=int(value_seed), units="counts")
    if kind == "short":
        return caproto.ChannelShort(value=int(value_seed) % 1000, units="counts")
    if kind == "float":
        return caproto.ChannelFloat(value=value_seed, units="V", precision=2)
    if kind == "wave":
        return caproto.ChannelDouble(value=[value_seed + k for k in range(10)], max_length=10, units="mm")
    if kind == "chars":
        return caproto.ChannelChar(value=f"note {int(value_seed)}", max_length=64)
    if kind == "slow":
        return slow_double(value=value_seed, units="A", precision=3)
    if kind == "ro":
        return read_only_double(value=value_seed, units="A", precision=3)
    if kind == "nan":
        return caproto.ChannelDouble(value=math.nan, units="mm", precision=3)
    if kind == "alarm" or readback:
        return caproto.ChannelDouble(value=value_seed, units="mm", precision=3, **limits)
    return caproto.ChannelDouble(value=value_seed, units="mm", precision=3)


def build_pvdb(prefix: str, ioc: int, pairs: int, special: bool) -> dict[str, Any]:
    """The channels of one IOC by name."""
    pvdb: dict[str, Any] = {}
    for i in range(pairs):
        sp, rb = pair_names(prefix, ioc, i)
        kind = pair_kind(i)
        seed = float(i % 50)
        pvdb[sp] = _channels(kind, seed, readback=False)
        pvdb[rb] = _channels("double" if kind in ("slow", "ro") else kind, seed, readback=True)
    if special:
        for kind, name in special_names(prefix).items():
            pvdb[name] = _channels(kind, 1.0, readback=False)
    return pvdb


async def _updater(channels: list[tuple[Any, int]]) -> None:
    """10 Hz tick; channel (ch, every) is written every `every` ticks (1-10 Hz)."""
    tick = 0
    rng = random.Random(4)
    while True:
        await asyncio.sleep(0.1)
        tick += 1
        for ch, every in channels:
            if tick % every == 0:
                await ch.write(round(100 * math.sin(tick / 50 + every) + rng.uniform(-5, 5), 3))


async def serve_ioc(prefix: str, ioc: int, pairs: int, port: int, update_fraction: float, special: bool) -> None:
    from caproto.asyncio.server import Context

    logging.getLogger("caproto").setLevel(logging.ERROR)
    pvdb = build_pvdb(prefix, ioc, pairs, special)
    rng = random.Random(ioc)
    updating = []
    for i in range(pairs):
        if pair_kind(i) in ("double", "slow", "ro") and rng.random() < update_fraction:
            updating.append((pvdb[pair_names(prefix, ioc, i)[1]], rng.choice((1, 2, 5, 10))))
    ctx = Context(pvdb, interfaces=["127.0.0.1"])
    ctx.ca_server_port = port  # UDP search port and first TCP port tried
    task = asyncio.create_task(_updater(updating))
    started = asyncio.get_running_loop().create_future()

    async def startup_hook(_: Any) -> None:
        started.set_result(None)

    run = asyncio.create_task(ctx.run(startup_hook=startup_hook))
    await started
    if ctx.port != port:
        raise SystemExit(f"IOC {ioc}: TCP port {port} was taken (got {ctx.port})")
    print(f"READY {ioc} {port} {len(pvdb)}", flush=True)
    await asyncio.gather(run, task)


# --- the parent side -------------------------------------------------------------------------------
def free_port() -> int:
    """A loopback port free for both TCP and UDP (CA uses the same number for both)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port: int = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port for a simulated IOC")


@dataclass
class SimIOC:
    index: int
    port: int
    pairs: int
    special: bool
    prefix: str
    update_fraction: float
    proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        env = dict(os.environ)
        env.update(
            EPICS_CAS_INTF_ADDR_LIST="127.0.0.1",
            EPICS_CAS_BEACON_ADDR_LIST="",
            EPICS_CAS_AUTO_BEACON_ADDR_LIST="NO",
        )
        args = [sys.executable, "-m", "squirrel.tools.sim", self.prefix, str(self.index), str(self.pairs)]
        args += [str(self.port), str(self.update_fraction), "1" if self.special else "0"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY") or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"simulated IOC {self.index} on port {self.port} did not start: {line!r}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.kill()  # a crash, as far as clients can tell: circuits drop at once
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


@dataclass
class SimHandle:
    iocs: list[SimIOC]
    pvs: list[SimPV]
    prefix: str
    special: dict[str, str] = field(default_factory=dict)

    @property
    def addr_list(self) -> str:
        return " ".join(f"127.0.0.1:{i.port}" for i in self.iocs)

    def addresses(self) -> list[str]:
        out = [a for p in self.pvs for a in (p.setpoint, p.readback)]
        return out + list(self.special.values())

    def stop(self) -> None:
        for ioc in self.iocs:
            ioc.stop()

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sim(
    pvs: int,
    iocs: int = 1,
    prefix: str = "SIM:",
    *,
    port_base: int | None = None,
    ports: list[int] | None = None,
    update_fraction: float = 0.1,
    special: bool = True,
    start: bool = True,
) -> SimHandle:
    """Start K IOC subprocesses sequentially (parallel starts race for ports) serving `pvs` PVs."""
    pairs = split_pairs(pvs, iocs) if pvs > 0 else [0] * iocs
    if ports is None:
        ports = [port_base + k for k in range(iocs)] if port_base else [free_port() for _ in range(iocs)]
    handle = SimHandle(
        iocs=[SimIOC(k, ports[k], pairs[k], special and k == 0, prefix, update_fraction) for k in range(iocs)],
        pvs=pv_list(prefix, pairs),
        prefix=prefix,
        special=special_names(prefix) if special else {},
    )
    if start:
        try:
            for ioc in handle.iocs:
                ioc.start()
        except BaseException:
            handle.stop()
            raise
    return handle


def _main(argv: list[str]) -> None:
    prefix, ioc, pairs, port, fraction, special = argv
    try:
        asyncio.run(serve_ioc(prefix, int(ioc), int(pairs), int(port), float(fraction), special == "1"))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    _main(sys.argv[1:])
