"""C soft IOCs from the epicscorelibs wheel, for `squirrel bench --ioc softioc`.

Each IOC is `python -m epicscorelibs.ioc -d <generated.db>` on its own loopback CA server port. The
database holds setpoint/readback pairs (ao setpoints; calc or ai readbacks that follow the setpoint),
with EGU, PREC, drive and alarm limits. A tenth of the readbacks update at 1 Hz (the background
share). Every calc readback also belongs to a *load block*: a `LOAD:<b>` bo record enables a 10 Hz
tick that reprocesses the block's readbacks, so the bench can offer a chosen update rate.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BLOCK_SIZE = 250  # readbacks per load block; one block adds BLOCK_SIZE * TICK_HZ updates/s
TICK_HZ = 10.0
BACKGROUND_EVERY = 10  # every n-th readback updates at 1 Hz all the time


@dataclass
class LoadBlock:
    enable_pv: str
    size: int

    @property
    def rate(self) -> float:
        return self.size * TICK_HZ


@dataclass
class IocSet:
    """Running IOCs: their addresses, the PV pairs they serve, and how to drive load."""

    addr_list: str
    pairs: list[tuple[str, str]]  # (setpoint, readback)
    load_blocks: list[LoadBlock] = field(default_factory=list)
    background_rate: float = 0.0
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workdir: Path | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def setpoints(self) -> list[str]:
        return [sp for sp, _ in self.pairs]

    @property
    def addresses(self) -> list[str]:
        return [a for pair in self.pairs for a in pair]

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None and proc.stdin is not None:
                try:
                    proc.stdin.write(b"exit()\n")
                    proc.stdin.close()
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (CA uses the same number for both).

    Drawn below the kernel's ephemeral range: other processes asking for port 0 (test IOCs of other
    suites, clients) never get it, so no one binds the same UDP port (SO_REUSEADDR) between our check
    and the IOC's own bind, which would silently steal its searches."""
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind(("127.0.0.1", port))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port for a CA server")


_SP = """record(ao, "{sp}") {{
  field(EGU, "{egu}") field(PREC, "3") field(VAL, "{val}") field(PINI, "YES")
  field(DRVH, "100") field(DRVL, "-100") field(HOPR, "100") field(LOPR, "-100")
  field(HIHI, "90") field(HIGH, "80") field(LOW, "-80") field(LOLO, "-90")
  field(HHSV, "MAJOR") field(HSV, "MINOR") field(LSV, "MINOR") field(LLSV, "MAJOR")
}}
"""
_RB_CALC = """record(calc, "{rb}") {{
  field(INPA, "{sp} CP") field(INPB, "{tick} CP") field(INPC, "{bg}")
  field(CALC, "A+(B%2)*0.001+(C%2)*0.0001") field(MDEL, "-1")
  field(EGU, "{egu}") field(PREC, "3") field(HOPR, "100") field(LOPR, "-100")
  field(HIHI, "90") field(HIGH, "80") field(LOW, "-80") field(LOLO, "-90")
  field(HHSV, "MAJOR") field(HSV, "MINOR") field(LSV, "MINOR") field(LLSV, "MAJOR")
}}
"""
_RB_AI = """record(ai, "{rb}") {{
  field(DTYP, "Soft Channel") field(INP, "{sp} CP") field(EGU, "{egu}") field(PREC, "3")
  field(HOPR, "100") field(LOPR, "-100") field(HIGH, "80") field(LOW, "-80") field(HSV, "MINOR") field(LSV, "MINOR")
}}
"""
_TICK = """record(bo, "{load}") {{ field(ZNAM, "off") field(ONAM, "on") field(VAL, "0") field(PINI, "YES") }}
record(calc, "{tick}") {{
  field(SCAN, ".1 second") field(CALC, "A+1") field(INPA, "{tick}") field(SDIS, "{load}") field(DISV, "0")
}}
"""
_BG = """record(calc, "{bg}") {{ field(SCAN, "1 second") field(CALC, "A+1") field(INPA, "{bg}") }}
"""


def generate_db(
    prefix: str, first: int, count: int, with_background: bool = True
) -> tuple[str, list[tuple[str, str]], list[LoadBlock], int]:
    """The .db text for pairs [first, first+count) under `prefix`; returns (text, pairs, blocks, background)."""
    parts: list[str] = []
    pairs: list[tuple[str, str]] = []
    blocks: list[LoadBlock] = []
    bg = f"{prefix}BG"
    parts.append(_BG.format(bg=bg))
    background = 0
    block_members = 0
    for n, i in enumerate(range(first, first + count)):
        sp, rb = f"{prefix}SP{i:05d}", f"{prefix}RB{i:05d}"
        egu = ("mA", "V", "mm", "degC")[i % 4]
        parts.append(_SP.format(sp=sp, egu=egu, val=f"{(i % 97) * 0.5 - 20:.3f}"))
        if n % 10 == 5:
            parts.append(_RB_AI.format(rb=rb, sp=sp, egu=egu))
        else:
            if block_members == 0 or block_members >= BLOCK_SIZE:
                b = len(blocks)
                load, tick = f"{prefix}LOAD:{b}", f"{prefix}TICK:{b}"
                parts.append(_TICK.format(load=load, tick=tick))
                blocks.append(LoadBlock(load, 0))
                block_members = 0
            blocks[-1].size += 1
            block_members += 1
            in_bg = with_background and n % BACKGROUND_EVERY == 0
            background += in_bg
            parts.append(
                _RB_CALC.format(
                    rb=rb, sp=sp, egu=egu, tick=f"{prefix}TICK:{len(blocks) - 1}", bg=f"{bg} CP" if in_bg else ""
                )
            )
        pairs.append((sp, rb))
    return "".join(parts), pairs, blocks, background


def split(pvs: int, iocs: int) -> list[tuple[int, int]]:
    """(first pair index, pair count) per IOC for `pvs` PVs (pvs/2 pairs) over `iocs` IOCs."""
    npairs = max(1, pvs // 2)
    iocs = max(1, min(iocs, npairs))
    out, first = [], 0
    for k in range(iocs):
        count = npairs // iocs + (1 if k < npairs % iocs else 0)
        out.append((first, count))
        first += count
    return out


_PR_CAPBSET_DROP = 24
_CAP_SYS_NICE = 23


def no_realtime() -> None:
    """Popen preexec_fn (Linux): the IOC may not schedule its threads SCHED_FIFO.

    EPICS gives its scan and CA threads real-time priority when it can (as root, CAP_SYS_NICE). On a
    2-core bench box those threads then preempt everything else: the service under test, the bench's
    own client, and even the exit of a killed service (its threads never get the CPU to die). Dropped
    from the bounding set before exec, the capability is gone from the IOC, and EPICS falls back to
    ordinary scheduling, as on an IOC host that is not this one."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_CAPBSET_DROP, _CAP_SYS_NICE, 0, 0, 0)


def _wait_running(proc: subprocess.Popen[bytes], timeout: float, log: Path) -> str:
    """Read the IOC's stderr until it reports running; keep draining it afterwards so it never blocks,
    into `log` (what the IOC says under load: e.g. a full callback queue)."""
    seen: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        with open(log, "ab") as out:
            for raw in proc.stderr:
                out.write(raw)
                out.flush()
                if not ready.is_set():
                    seen.append(raw.decode(errors="replace"))
                    if b"IOC Running" in raw:
                        ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout) or proc.poll() is not None:
        return "".join(seen)[-2000:] or "no output"
    return ""


def launch_iocs(
    pvs: int,
    iocs: int,
    prefix: str,
    module: str,
    ports: Callable[[], tuple[dict[str, str], str]],
    timeout: float = 60.0,
) -> IocSet:
    """Start `iocs` IOC processes (`python -m <module> -d <generated.db>`) serving `pvs` PVs in total.

    `ports()` gives each IOC its environment (its own loopback ports) and its entry of the returned
    addr_list; the CA soft IOCs and the PVA (QSRV) ones differ only there."""
    tmp = tempfile.TemporaryDirectory(prefix=f"squirrel-{module.split('.')[0]}-")
    workdir = Path(tmp.name)
    result = IocSet(addr_list="", pairs=[], workdir=workdir, _tmp=tmp)
    addrs: list[str] = []
    try:
        for k, (first, count) in enumerate(split(pvs, iocs)):
            text, pairs, blocks, background = generate_db(f"{prefix}I{k}:", first, count)
            db = workdir / f"ioc{k}.db"
            db.write_text(text)
            env, addr = ports()
            proc = subprocess.Popen(
                [sys.executable, "-m", module, "-d", str(db)],
                stdin=subprocess.PIPE,  # the IOC shell exits on EOF: keep stdin open until stop()
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={**os.environ, **env},
                cwd=workdir,
                preexec_fn=no_realtime,
            )
            result.procs.append(proc)
            result.pairs.extend(pairs)
            result.load_blocks.extend(blocks)
            result.background_rate += background
            addrs.append(addr)
        for k, (proc, addr) in enumerate(zip(result.procs, addrs, strict=True)):
            failure = _wait_running(proc, timeout, workdir / f"ioc{k}.log")
            if failure:
                raise RuntimeError(f"{module} IOC at {addr} did not start: {failure}")
    except BaseException:
        result.stop()
        raise
    result.addr_list = " ".join(addrs)
    return result


def _ca_ports() -> tuple[dict[str, str], str]:
    """One soft IOC's CA server port (its addr_list entry) and PVA ports out of everyone's way."""
    port = free_port()
    env = {
        "EPICS_CA_SERVER_PORT": str(port),
        "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_CA_ADDR_LIST": "127.0.0.1",
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
        "EPICS_PVAS_SERVER_PORT": str(free_port()),
        "EPICS_PVAS_BROADCAST_PORT": str(free_port()),
        "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_PVA_ADDR_LIST": "127.0.0.1",
        "EPICS_PVA_AUTO_ADDR_LIST": "NO",
    }
    return env, f"127.0.0.1:{port}"


def start_softiocs(pvs: int, iocs: int, prefix: str = "BENCH:", timeout: float = 60.0) -> IocSet:
    """Start `iocs` soft IOCs serving `pvs` PVs in total (pvs/2 setpoint/readback pairs)."""
    return launch_iocs(pvs, iocs, prefix, "epicscorelibs.ioc", _ca_ports, timeout)


def main(argv: list[str] | None = None) -> int:
    """`python -m squirrel.tools.bench.softioc --pvs N --iocs K`: serve the bench database until Ctrl-C
    (then `squirrel bench --ca-addr-list "<printed list>" --pvs N --iocs K` measures against it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m squirrel.tools.bench.softioc")
    parser.add_argument("--pvs", type=int, default=50_000)
    parser.add_argument("--iocs", type=int, default=4)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started in the background (SIGINT ignored)
        signal.signal(sig, lambda *_: stop.set())
    iocs = start_softiocs(args.pvs, args.iocs)
    print(f'EPICS_CA_ADDR_LIST="{iocs.addr_list}"', flush=True)
    try:
        while not stop.wait(0.5) and all(p.poll() is None for p in iocs.procs):
            pass
    finally:
        iocs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
