"""`squirrel bench`: start PostgreSQL, IOCs and the service, measure every figure, report.

Each phase records its samples or an error and never stops the run: a missing endpoint makes its
figure null with a reason, and the JSON always carries every key (CI's smoke test relies on it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from squirrel.progress import Progress
from squirrel.tools.bench import figures as fg
from squirrel.tools.bench import plan
from squirrel.tools.bench.cpu import Groups, PhaseCpu
from squirrel.tools.bench.profile import PhaseProfiler
from squirrel.tools.bench.report import Results, build_json
from squirrel.tools.bench.service import RssSampler, ServiceProcess, create_key
from squirrel.tools.bench.softioc import IocSet, start_softiocs

IocKind = Literal["softioc", "caproto"]


@dataclass
class BenchConfig:
    pvs: int = 50_000
    iocs: int = 4
    ioc: IocKind = "softioc"
    repeat: int = 3
    json_path: Path | None = None
    ca_addr_list: str | None = None
    sse_clients: int = 20
    profile_dir: Path | None = None  # --profile: py-spy per phase (tools/bench/profile.py)
    only: tuple[str, ...] = ()  # --only: just these figure phases (plan.PHASES); all when empty
    ui: bool = False  # --ui: also the console's snapshot view (plan.OPTIONAL)
    sse_load: float = 10_000.0
    min_snapshots: int = 30
    ingest_rates: tuple[float, ...] = (5_000, 10_000, 20_000, 30_000, 45_000, 60_000, 80_000, 100_000)

    @property
    def scale(self) -> float:
        """Timeouts grow with the PV count (a 50K run on a busy 2-core box is slow)."""
        return max(1.0, self.pvs / 5_000)


@dataclass
class Bench:
    cfg: BenchConfig
    progress: Progress
    results: Results = field(default_factory=Results)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="squirrel-bench-")))
    iocs: IocSet | None = None
    sim: Any = None
    pg: Any = None
    database_url: str = ""
    token: str = ""
    svc: ServiceProcess | None = None
    rss: RssSampler = field(default_factory=RssSampler)
    snapshots: list[str] = field(default_factory=list)
    start_overhead: float = 0.0
    profiler: PhaseProfiler | None = None

    def __post_init__(self) -> None:
        if self.cfg.profile_dir is not None:
            self.profiler = PhaseProfiler(self.cfg.profile_dir)
        # PostgreSQL's backends are the postmaster's children.
        self.cpu = PhaseCpu(self._cpu_groups, with_children=frozenset({"postgres"}))

    def _cpu_groups(self) -> Groups:
        """The processes whose CPU time a phase reports (extras.cpu_seconds), as they are now."""
        iocs = self.iocs.pids() if self.iocs is not None else []
        if self.sim is not None:
            iocs = [i.proc.pid for i in self.sim.iocs if i.proc is not None]
        postmaster = self.pg.pid() if self.pg is not None else None
        return {
            "service": [self.svc.pid] if self.svc is not None and self.svc.pid is not None else [],
            "iocs": iocs,
            "postgres": [postmaster] if postmaster is not None else [],
            "bench": [os.getpid()],
        }

    # --- infrastructure ---------------------------------------------------------------------
    def start_iocs(self) -> None:
        cfg = self.cfg
        if cfg.ioc == "caproto":
            from squirrel.tools.sim import start_sim

            self.sim = start_sim(cfg.pvs, cfg.iocs, "BENCH:", special=False)
            pairs = [(p.setpoint, p.readback) for p in self.sim.pvs]
            self.iocs = IocSet(addr_list=self.sim.addr_list, pairs=pairs)
        elif cfg.ca_addr_list:
            from squirrel.tools.bench.softioc import generate_db, split

            self.iocs = IocSet(addr_list=cfg.ca_addr_list, pairs=[])
            for k, (first, count) in enumerate(split(cfg.pvs, cfg.iocs)):
                _, pairs, blocks, bg = generate_db(f"BENCH:I{k}:", first, count)
                self.iocs.pairs.extend(pairs)
                self.iocs.load_blocks.extend(blocks)
                self.iocs.background_rate += bg
        else:
            # iocInit of 12.5K pairs per IOC with CP links takes a while on a busy box.
            self.iocs = start_softiocs(cfg.pvs, cfg.iocs, timeout=max(60.0, cfg.pvs / 250))
        self.results.extras["ca_addr_list"] = self.iocs.addr_list
        # The bench's own CA client (load control, SSE probe) reads these once, at its first CA call.
        os.environ["EPICS_CA_ADDR_LIST"] = self.iocs.addr_list
        os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"

    def start_postgres(self) -> None:
        from psycopg.conninfo import make_conninfo

        from squirrel.db.embedded import EmbeddedPostgres

        self.pg = EmbeddedPostgres(self.workdir / "data")
        self.database_url = self.pg.start()
        self.scratch_url = make_conninfo(self.database_url, dbname="bench_register")
        import psycopg

        with psycopg.connect(self.pg.admin_uri(), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_register")
            conn.execute("CREATE DATABASE bench_register")

    def start_service(self, database_url: str, roles: str = "api,monitor,worker") -> ServiceProcess:
        assert self.iocs is not None
        svc = ServiceProcess(database_url, self.workdir / "data", self.iocs.addr_list, roles=roles)
        svc.start()
        self.rss.watch(svc.pid)
        self.svc = svc
        if self.profiler is not None and svc.pid is not None:
            self.profiler.attach(svc.pid)
        svc.wait_ready(60 * self.cfg.scale)
        return svc

    def stop_service(self) -> None:
        if self.svc is not None:
            self.rss.current_bytes()
            self.svc.stop()
            self.svc = None
            self.rss.watch(None)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        assert self.svc is not None
        return httpx.AsyncClient(
            base_url=self.svc.base_url,
            headers={"X-API-Key": token or self.token},
            timeout=httpx.Timeout(120 * self.cfg.scale, connect=10),
        )

    def stop_all(self) -> None:
        self.stop_service()
        self.rss.stop()
        if self.sim is not None:
            self.sim.stop()
        if self.iocs is not None:
            if self.results.errors and self.iocs.workdir is not None:
                # The IOCs' own words (e.g. a full callback queue) go with the service log that explains errors.
                for log in self.iocs.workdir.glob("ioc*.log"):
                    with suppress(OSError):
                        shutil.copy(log, self.workdir / log.name)
            self.iocs.stop()
        if self.pg is not None:
            with suppress(Exception):
                self.pg.stop()

    async def phase(self, label: str, keys: tuple[str, ...], body: Callable[[], Awaitable[None]]) -> None:
        """Run one phase; on failure every figure it feeds gets the reason."""
        self.progress.set(label)
        gc_before = await self._gc_seconds()
        self.cpu.begin()
        if self.profiler is not None:
            self.profiler.begin(label, self.svc.pid if self.svc is not None else None)
        t0 = time.perf_counter()
        try:
            await body()
        except Exception as exc:
            reason = f"{label}: {exc}" if str(exc) else f"{label}: {type(exc).__name__}"
            for key in keys:
                self.results.error(key, reason)
        finally:
            # The phase's own time, before stopping the profiler and reading the GC counter.
            self.results.extras.setdefault("phase_seconds", {})[label] = round(time.perf_counter() - t0, 2)
            self.results.extras.setdefault("cpu_seconds", {})[label] = self.cpu.end()
            if self.profiler is not None and (summary := await asyncio.to_thread(self.profiler.end)) is not None:
                self.results.extras.setdefault("profile", {})[label] = summary
            gc_after = await self._gc_seconds()
            if gc_after is not None:
                # A phase that restarted the service counts its new process from zero.
                base = gc_before[1] if gc_before is not None and gc_before[0] == gc_after[0] else 0.0
                self.results.extras.setdefault("gc_seconds", {})[label] = round(gc_after[1] - base, 3)
        self.progress.step(label)

    async def _gc_seconds(self) -> tuple[int, float] | None:
        """(service pid, seconds its garbage collector paused it so far), when a service answers."""
        if self.svc is None or self.svc.pid is None or not self.token:
            return None
        try:
            async with self.client() as client:
                m = await fg.metrics(client)
        except (fg.BenchError, httpx.HTTPError):
            return None
        value = m.get("squirrel_gc_seconds_total")
        return None if value is None else (self.svc.pid, value)

    async def infrastructure(self) -> bool:
        """Start the IOCs, then PostgreSQL, as phases; False when either failed (its reason is recorded)."""
        await self.phase("IOCs", ("*",), lambda: asyncio.to_thread(self.start_iocs))
        if self.iocs is None:
            return False
        await self.phase("PostgreSQL", ("*",), lambda: asyncio.to_thread(self.start_postgres))
        return bool(self.database_url)

    # --- phases -----------------------------------------------------------------------------
    async def baselines(self) -> None:
        assert self.iocs is not None
        addr_file, sp_file = self.workdir / "addresses.txt", self.workdir / "setpoints.txt"
        addr_file.write_text("\n".join(self.iocs.addresses))
        sp_file.write_text("\n".join(self.iocs.setpoints))
        env = dict(os.environ, EPICS_CA_ADDR_LIST=self.iocs.addr_list, EPICS_CA_AUTO_ADDR_LIST="NO")
        for _ in range(self.cfg.repeat):
            for mode in ("monitor", "getput"):
                done = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "squirrel.tools.bench.baselines", mode, str(addr_file), str(sp_file)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300 * self.cfg.scale,
                )
                lines = done.stdout.strip().splitlines()
                if done.returncode != 0 or not lines:
                    raise fg.BenchError(f"baseline {mode} failed: {done.stderr.strip()[-300:]}")
                out = json.loads(lines[-1])
                for key, value in out.items():
                    if key.startswith("raw_"):
                        self.results.add(key, value)
                    else:
                        self.results.extras.setdefault(f"baseline_{key}", []).append(value)

    async def register_repeats(self) -> None:
        """register_multi_s on an API-only service over a scratch database (no CA), one prefix per repeat."""
        assert self.iocs is not None
        token = await asyncio.to_thread(create_key, self.scratch_url, self.workdir / "data", "bench-register")
        await asyncio.to_thread(self.start_service, self.scratch_url, "api")
        try:
            async with self.client(token) as client:
                for r in range(self.cfg.repeat):
                    elapsed, _ = await fg.register_multi(client, fg.pv_body(self.iocs.pairs, prefix=f"R{r}:"))
                    self.results.add("register_multi_s", elapsed)
        finally:
            self.stop_service()

    async def main_service(self) -> None:
        """Start the full service with an empty registry, register the IOCs' PVs, wait for all connected."""
        assert self.iocs is not None
        self.token = await asyncio.to_thread(create_key, self.database_url, self.workdir / "data", "bench-admin")
        svc = await asyncio.to_thread(self.start_service, self.database_url)
        self.start_overhead = time.perf_counter() - svc.spawned_at
        self.results.extras["service_start_empty_s"] = round(self.start_overhead, 3)
        async with self.client() as client:
            elapsed, _ids = await fg.register_multi(client, fg.pv_body(self.iocs.pairs))
            self.results.extras["register_multi_live_s"] = round(elapsed, 3)
            t0 = time.perf_counter()
            n = len(self.iocs.addresses)
            await fg.wait_connected(client, n, 120 * self.cfg.scale, t0)
            self.results.extras["registry_follow_connect_s"] = round(time.perf_counter() - t0, 3)

    async def monitor_repeats(self) -> None:
        """monitor_connect_all_s: restart the service; spawn → all connected, less the empty-start time."""
        assert self.iocs is not None
        n = len(self.iocs.addresses)
        for _ in range(self.cfg.repeat):
            self.stop_service()
            svc = await asyncio.to_thread(self.start_service, self.database_url)
            async with self.client() as client:
                total, done_at = await fg.wait_connected(client, n, 120 * self.cfg.scale, svc.spawned_at)
                started_at = await fg.monitor_started_at(client)
            self.results.extras.setdefault("monitor_spawn_to_connected_s", []).append(round(total, 3))
            if started_at is not None:
                # From the monitor's own start (registry load included) to all connected with a value.
                self.results.add("monitor_connect_all_s", done_at - started_at)
            else:
                # No start instant reported: spawn → connected, less an empty-registry start-up.
                self.results.add("monitor_connect_all_s", max(0.0, total - self.start_overhead))

    async def snapshots_phase(self) -> None:
        timeout = 120 * self.cfg.scale
        async with self.client() as client:
            for use_cache, key in ((True, "snapshot_cache_s"), (False, "snapshot_direct_s")):
                for r in range(self.cfg.repeat):
                    try:
                        times = self.results.extras.setdefault(f"{key}_job_times", [])
                        elapsed, sid = await fg.take_snapshot(client, f"bench {key} {r}", use_cache, timeout, times)
                    except Exception as exc:
                        self.results.error(key, f"snapshot: {exc}")
                        break
                    self.results.add(key, elapsed)
                    self.snapshots.append(sid)

    async def ensure_snapshots(self, n: int) -> None:
        """At least `n` stored snapshots (from the cache, unmeasured) for a phase run without `snapshots`."""
        async with self.client() as client:
            while len(self.snapshots) < n:
                _, sid = await fg.take_snapshot(client, f"bench {len(self.snapshots)}", True, 120 * self.cfg.scale)
                self.snapshots.append(sid)

    async def read_phase(self) -> None:
        if len(self.snapshots) < 2:
            raise fg.BenchError("needs two stored snapshots (snapshot creation failed)")
        a, b = self.snapshots[0], self.snapshots[-1]
        async with self.client() as client:
            for _ in range(self.cfg.repeat):
                elapsed, _body = await fg.timed_get(client, f"/v1/snapshots/{a}/compare/{b}", "compare")
                self.results.add("compare_snapshots_s", elapsed)
            for _ in range(self.cfg.repeat):
                elapsed, body = await fg.timed_get(client, f"/v1/snapshots/{a}", "GET /v1/snapshots/{id}")
                self.results.add("get_snapshot_s", elapsed)
            self.results.extras["get_snapshot_bytes"] = len(body)

    async def restore_phase(self) -> None:
        if not self.snapshots:
            raise fg.BenchError("needs a stored snapshot (snapshot creation failed)")
        async with self.client() as client:
            for _ in range(self.cfg.repeat):
                times = self.results.extras.setdefault("restore_job_times", [])
                elapsed, result = await fg.restore(client, self.snapshots[0], 300 * self.cfg.scale, times)
                self.results.add("restore_s", elapsed)
                counts = {k: result.get(k) for k in ("totalPVs", "successCount", "failureCount")}
                self.results.extras.setdefault("restore_results", []).append(counts)

    async def list_phase(self) -> None:
        async with self.client() as client:
            count = await fg.snapshot_count(client)
            while count < self.cfg.min_snapshots:
                await fg.take_snapshot(client, f"bench filler {count}", True, 120 * self.cfg.scale)
                count += 1
            self.results.extras["snapshots_stored"] = count
            for _ in range(self.cfg.repeat):
                elapsed, _body = await fg.timed_get(client, "/v1/snapshots", "GET /v1/snapshots")
                self.results.add("list_snapshots_s", elapsed)


def run_bench(cfg: BenchConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run the whole bench; returns the JSON report (also written to cfg.json_path when set)."""
    names = plan.chosen(cfg.only, cfg.ui)
    progress = progress or Progress(plan.step_count(names), "bench")
    bench = Bench(cfg, progress)
    started, load_start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.getloadavg()[0]
    try:
        asyncio.run(plan.run_phases(bench, names))
    finally:
        progress.set("stopping")
        bench.stop_all()
        progress.close()
    if bench.rss.peak_bytes:
        bench.results.add("peak_rss_mb", bench.rss.peak_bytes / 1e6)
    elif not any(plan.PHASES[n].needs_service or n == "register" for n in names):
        bench.results.skip("peak_rss_mb", plan.skip_reason("baselines", cfg.only) + ": no service ran")
    else:
        bench.results.error("peak_rss_mb", "the service never ran")
    if "*" in bench.results.errors:
        reason = bench.results.errors.pop("*")
        for key in bench.results.samples:
            if not bench.results.samples[key] and key not in bench.results.skipped:
                bench.results.error(key, reason)
    config = {
        "pvs": cfg.pvs,
        "iocs": cfg.iocs,
        "ioc": cfg.ioc,
        "repeat": cfg.repeat,
        "ca_addr_list": cfg.ca_addr_list,
        "sse_clients": cfg.sse_clients,
        "sse_load": cfg.sse_load,
        "phases": names,
        "cpus": os.cpu_count(),
        "started": started,
        "loadavg_1m_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    shutil.rmtree(bench.workdir / "data" / "postgres", ignore_errors=True)
    if bench.results.errors:
        bench.results.extras["service_log"] = str(bench.workdir / "data" / "service.log")  # explains errors
        bench.results.extras["ioc_logs"] = sorted(str(p) for p in bench.workdir.glob("ioc*.log"))
    else:
        shutil.rmtree(bench.workdir, ignore_errors=True)
    report = build_json(bench.results, config)
    if cfg.json_path is not None:
        cfg.json_path.write_text(json.dumps(report, indent=2) + "\n")
    return report
