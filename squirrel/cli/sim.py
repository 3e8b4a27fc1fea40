"""`squirrel sim-ioc`: serve simulated IOCs (CA, PVA or both) until interrupted, print their address lists."""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from squirrel.tools.sim import SimHandle, start_sim


def write_listing(handle: SimHandle, path: Path) -> int:
    """The PVs as the registry import format: CSV (Setpoint,Readback,Device,Description,Kind) or JSON."""
    rows: list[dict[str, Any]] = [
        {"setpointAddress": p.setpoint, "readbackAddress": p.readback, "device": p.device,
         "description": p.description, "kind": p.kind}
        for p in handle.pvs
    ]  # fmt: skip
    for kind, name in handle.special.items():
        rows.append(
            {"setpointAddress": name, "readbackAddress": None, "device": f"{handle.prefix}X",
             "description": f"special {kind} PV", "kind": kind}
        )  # fmt: skip
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps([{k: v for k, v in r.items() if k != "kind"} for r in rows], indent=1))
    else:
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["Setpoint", "Readback", "Device", "Description", "Kind"])
            for r in rows:
                readback = r["readbackAddress"] or ""
                out.writerow([r["setpointAddress"], readback, r["device"], r["description"], r["kind"]])
    return len(rows)


def write_pva_listing(sim: Any, path: Path, append: bool) -> int:
    """The PVA pairs as registry rows with pva:// addresses (appended to a CA listing for `both`)."""
    rows = [(f"pva://{sp}", f"pva://{rb}", sp.rsplit(":", 1)[0], "simulated PVA pair") for sp, rb in sim.pairs]
    if path.suffix.lower() == ".json":
        old = json.loads(path.read_text()) if append else []
        keys = ("setpointAddress", "readbackAddress", "device", "description")
        path.write_text(json.dumps(old + [dict(zip(keys, r, strict=True)) for r in rows], indent=1))
    else:
        with path.open("a" if append else "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            if not append:
                out.writerow(["Setpoint", "Readback", "Device", "Description", "Kind"])
            for r in rows:
                out.writerow([*r, "double"])
    return len(rows)


def cmd_sim_ioc(args: argparse.Namespace) -> int:
    if args.protocol == "ca":
        return _serve_ca(args, None)
    from squirrel.tools.pva_sim import PvaSim

    sim = PvaSim(f"{args.prefix}PVA:", max(1, args.pvs // 2), args.update_fraction)
    try:
        print(f"serving {2 * len(sim.pairs)} PVA PVs", flush=True)
        for name, value in sim.client_env().items():
            print(f'export {name}="{value}"', flush=True)
        if args.protocol == "pva":
            if args.list:
                n = write_pva_listing(sim, Path(args.list), append=False)
                print(f"wrote {n} registry rows to {args.list}", flush=True)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            try:
                while not stop.wait(1.0):
                    pass
            except KeyboardInterrupt:
                pass
            return 0
        return _serve_ca(args, sim)
    finally:
        sim.stop()


def _serve_ca(args: argparse.Namespace, pva_sim: Any) -> int:
    handle = start_sim(
        args.pvs,
        args.iocs,
        args.prefix,
        port_base=args.port_base,
        update_fraction=args.update_fraction,
        special=not args.no_special,
    )
    try:
        print(f"serving {len(handle.addresses())} PVs from {args.iocs} IOC(s)", flush=True)
        if args.list:
            n = write_listing(handle, Path(args.list))
            if pva_sim is not None:
                n += write_pva_listing(pva_sim, Path(args.list), append=True)
            print(f"wrote {n} registry rows to {args.list}", flush=True)
        print("export EPICS_CA_AUTO_ADDR_LIST=NO", flush=True)
        print(f'export EPICS_CA_ADDR_LIST="{handle.addr_list}"', flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(1.0):
            dead = [ioc.index for ioc in handle.iocs if not ioc.running]
            if dead:
                print(f"simulated IOC(s) {dead} exited", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("sim-ioc", help="serve simulated IOCs (caproto) for tests, demos and benchmarks")
    p.add_argument("--pvs", type=int, default=1000, help="total PVs (setpoint/readback pairs = pvs/2)")
    p.add_argument("--iocs", type=int, default=1, help="IOC processes, each on its own loopback CA port")
    p.add_argument("--prefix", default="SIM:", help="PV name prefix")
    p.add_argument("--port-base", type=int, help="first CA port (consecutive); default: free random ports")
    p.add_argument("--update-fraction", type=float, default=0.1, help="share of readbacks updating at 1-10 Hz")
    p.add_argument("--list", help="write the PV list for registry import (.csv or .json)")
    p.add_argument("--no-special", action="store_true", help="leave out the special test PVs on IOC 0")
    p.add_argument(
        "--protocol",
        choices=["ca", "pva", "both"],
        default="ca",
        help="ca: caproto IOCs; pva: a p4p server (pva:// rows in --list); both: each serves --pvs",
    )
    p.set_defaults(func=cmd_sim_ioc)
