"""`squirrel bench`: measure the service against IOCs and the raw aioca client in the same run."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any


def cmd_bench(args: argparse.Namespace) -> int:
    from squirrel.progress import Progress
    from squirrel.tools.bench import plan
    from squirrel.tools.bench.harness import BenchConfig, run_bench
    from squirrel.tools.bench.report import table

    if args.pvs < 2:
        raise SystemExit("squirrel bench: --pvs must be at least 2")
    if args.protocol == "pva" and args.soak is not None:
        raise SystemExit("squirrel bench: --soak runs against Channel Access IOCs only (drop --protocol pva)")
    try:
        only = plan.parse_only(args.only)
    except ValueError as exc:
        raise SystemExit(f"squirrel bench: {exc}") from None
    if (only or args.ui) and (args.protocol == "pva" or args.soak is not None):
        raise SystemExit("squirrel bench: --only and --ui choose phases of the CA figures (not --protocol pva, --soak)")
    sizes: tuple[int, ...] = ()
    if args.scale is not None:
        from squirrel.tools.bench.scale import parse_sizes

        if args.protocol == "pva" or args.soak is not None or args.ca_addr_list:
            raise SystemExit(
                "squirrel bench: --scale starts IOCs of each size for the CA figures"
                " (not with --protocol pva, --soak or --ca-addr-list)"
            )
        try:
            sizes = parse_sizes(args.scale)
        except ValueError as exc:
            raise SystemExit(f"squirrel bench: {exc}") from None
    if args.profile is not None:
        from squirrel.tools.bench.profile import py_spy

        if args.protocol == "pva" or args.soak is not None:
            raise SystemExit("squirrel bench: --profile samples the CA figure phases (not --protocol pva, --soak)")
        py_spy()  # fail now, not after the IOCs started
    if args.protocol == "pva":
        from squirrel.tools.bench.pva_bench import run_pva_bench
        from squirrel.tools.bench.pva_bench import table as pva_table

        pva_report = run_pva_bench(args.pvs, args.iocs, Path(args.json) if args.json else None)
        print(f"squirrel bench --protocol pva: {pva_report['pvs']} PVs, {args.iocs} PVA soft IOC(s)")
        print(pva_table(pva_report))
        return 0
    cfg = BenchConfig(
        pvs=args.pvs,
        iocs=args.iocs,
        ioc=args.ioc,
        repeat=max(1, args.repeat),
        json_path=Path(args.json) if args.json else None,
        ca_addr_list=args.ca_addr_list,
        sse_clients=args.sse_clients,
        only=only,
        ui=args.ui,
        profile_dir=Path(args.profile) if args.profile else None,
    )

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt  # stop IOCs, the service and PostgreSQL on the way out

    signal.signal(signal.SIGTERM, terminate)
    if args.soak is not None:
        from squirrel.tools.bench.soak import run_soak, soak_table

        if args.soak <= 0:
            raise SystemExit("squirrel bench: --soak must be a positive number of minutes")
        report = run_soak(cfg, args.soak)
        print(f"squirrel bench --soak: {cfg.pvs} PVs, {cfg.iocs} {cfg.ioc} IOC(s)")
        print(soak_table(report))
        if cfg.json_path is not None:
            print(f"wrote {cfg.json_path}")
        return 0
    names = plan.chosen(cfg.only, cfg.ui)
    if sizes:
        from squirrel.tools.bench.scale import bench_subprocess, run_scale, scale_table

        scaled = run_scale(cfg, sizes, bench_subprocess)
        rounds = f"{cfg.repeat} rounds of alternating order" if cfg.repeat > 1 else "1 round"
        print(f"squirrel bench --scale {','.join(map(str, sizes))}: growth from {sizes[0]:,} PVs, {rounds}")
        print(scale_table(scaled))
        if cfg.json_path is not None:
            print(f"wrote {cfg.json_path}")
        return 0
    report = run_bench(cfg, Progress(plan.step_count(names), f"bench {args.pvs} PVs"))
    only_text = f", only {','.join(names)}" if cfg.only else ""
    print(f"squirrel bench: {cfg.pvs} PVs, {cfg.iocs} {cfg.ioc} IOC(s), {cfg.repeat} repeat(s){only_text}")
    print(table(report))
    if cfg.json_path is not None:
        print(f"wrote {cfg.json_path}")
    return 0


def _phases_help() -> str:
    from squirrel.tools.bench.plan import OPTIONAL, PHASES

    note = " (with --ui or --only)"
    lines = [f"  {name:10} {phase.help}{note if name in OPTIONAL else ''}" for name, phase in PHASES.items()]
    return "figure phases, in run order (--only PHASE[,PHASE]):\n" + "\n".join(lines)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="measure every figure at scale (starts PostgreSQL, IOCs and the service)",
        epilog=_phases_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pvs", type=int, default=50_000, help="PVs in total (setpoint/readback pairs = pvs/2)")
    p.add_argument("--iocs", type=int, default=4, help="IOC processes, each on its own loopback CA port")
    p.add_argument("--ioc", choices=("softioc", "caproto"), default="softioc", help="C soft IOCs or our simulator")
    p.add_argument("--repeat", type=int, default=3, help="repeats per figure (median and range are reported)")
    p.add_argument("--json", help="write the report as JSON here")
    p.add_argument(
        "--ca-addr-list",
        help=(
            "target IOCs already serving the bench database"
            " (python -m squirrel.tools.bench.softioc) instead of starting"
        ),
    )
    p.add_argument("--sse-clients", type=int, default=20, help="SSE clients for the latency figure")
    p.add_argument(
        "--only",
        metavar="PHASE[,PHASE]",
        help="measure just these figure phases (listed below); the others' figures are reported as skipped",
    )
    p.add_argument(
        "--ui",
        action="store_true",
        help="also open the console's snapshot view in headless chromium (Debian's, via Playwright): first rows"
        " painted and a filter, ui_first_rows_ms and ui_filter_ms (implied by --only ui)",
    )
    p.add_argument(
        "--protocol",
        choices=("ca", "pva"),
        default="ca",
        help="pva: the PVA layer against raw p4p on C soft IOCs serving PVAccess (pvxslibs QSRV)",
    )
    p.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="instead of the figures: MINUTES of steady updates, SSE clients, live polling and a snapshot a"
        " minute; reports the RSS slope (MB/hour, after the first 5 minutes) and file descriptors",
    )
    p.add_argument(
        "--scale",
        metavar="PVS,PVS[,...]",
        help="run the figures at each registry size in turn (more IOCs above 25K PVs each) and report each"
        " figure's growth from the smallest size against linear + 10 %% (--pvs is then ignored); --repeat N"
        " runs N rounds of one repeat per size, alternating their order, so drift hits every size alike",
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="sample the service with py-spy during each phase (pip install 'squirrel[profile]'); writes"
        " collapsed stacks per phase into DIR and the top frames into the report's extras.profile",
    )
    p.set_defaults(func=cmd_bench)
