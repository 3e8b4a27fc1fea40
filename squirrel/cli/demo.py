"""`squirrel demo`: embedded PostgreSQL + simulated IOCs + the service, registered, snapshotted, ready to try.

Everything lives under the data folder, so a second run reuses the database, the registered PVs and
the demo's admin key (its token is shown once by the API, so the demo keeps it in a 0600 file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import logging
import math
import os
import signal
import socket
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from squirrel.cli.metrics_text import metric_totals

if TYPE_CHECKING:
    from squirrel.settings import Settings

DEMO_PREFIX = "DEMO:"
KEY_NAME = "demo-admin"
TOKEN_FILE = "demo-admin.token"


def _iocs_for(pvs: int) -> int:
    return max(1, min(4, math.ceil(pvs / 12_500)))


def read_token(path: Path) -> str | None:
    try:
        token = path.read_text().strip()
    except OSError:
        return None
    return token or None


def write_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)  # also when the file existed with looser permissions


def registry_csv(sim_pvs: list[Any], registered: set[str]) -> tuple[str, int]:
    """The import CSV for the simulator's pairs not yet registered, with two tag groups (Area, Kind)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Setpoint", "Readback", "Device", "Description", "Area", "Kind"])
    n = 0
    for i, pv in enumerate(sim_pvs):
        if pv.setpoint in registered:
            continue
        writer.writerow([pv.setpoint, pv.readback, pv.device, pv.description, f"Sector {i % 4 + 1}", pv.kind])
        n += 1
    return out.getvalue(), n


class _Server:
    """uvicorn in this process, without its signal capture (the demo owns SIGINT/SIGTERM)."""

    def __init__(self, app: Any, host: str, port: int, sock: socket.socket) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=3,
            lifespan="on",
        )
        self.server = Server(config)
        self.sock = sock
        self.task: asyncio.Task[None] | None = None

    async def start(self, stop: asyncio.Event) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done() or stop.is_set():
                with contextlib.suppress(BaseException):
                    await self.task
                raise SystemExit("squirrel demo: the service did not start (see the log above)")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(BaseException):
                await self.task


async def _admin_token(app: Any, base: str, token_path: Path) -> str:
    from squirrel.services.keys import SYSTEM, KeyService

    token = read_token(token_path)
    if token:
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": token}) as client:
            if (await client.get("/v1/api-keys/count")).status_code == 200:
                return token
    keys = KeyService(app.state.ctx)
    for old in await keys.list():
        if old.app_name == KEY_NAME:  # its token is lost; a fresh one replaces it
            await keys.revoke(SYSTEM, old.id)
    created = await keys.create(SYSTEM, KEY_NAME, ["admin"])
    assert created.token is not None
    write_token(token_path, created.token)
    return created.token


async def _wait_connected(client: httpx.AsyncClient, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await client.get("/metrics")
        if resp.status_code != 200 or "squirrel_pvs_connected" not in resp.text:
            return
        try:
            connected = metric_totals(resp.text).get("squirrel_pvs_connected", 0)
        except ValueError:  # not Prometheus text after all: do not wait on it
            return
        if connected >= expected:
            return
        await asyncio.sleep(0.2)


async def _snapshot(client: httpx.AsyncClient, title: str) -> str | None:
    resp = await client.post("/v1/snapshots", params={"async": "true", "use_cache": "true"}, json={"title": title})
    if resp.status_code == 201:
        return str(resp.json()["id"])
    if resp.status_code != 202:
        print(f"  (snapshot not taken: HTTP {resp.status_code} {resp.text[:200]})")
        return None
    job_id = resp.json()["jobId"]
    for _ in range(1200):
        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job.get("status") == "completed":
            return str(job.get("resultId"))
        if job.get("status") in ("failed", "cancelled"):
            print(f"  (snapshot job {job['status']}: {job.get('error')})")
            return None
        await asyncio.sleep(0.1)
    return None


async def _prepare(app: Any, base: str, sim: Any, data_dir: Path) -> None:
    token = await _admin_token(app, base, data_dir / TOKEN_FILE)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": token}, timeout=300) as client:
        resp = await client.get("/v1/pvs/export", params={"format": "json"})
        registered = {p.get("setpointAddress") for p in resp.json()} if resp.status_code == 200 else set()
        body, n = registry_csv(sim.pvs, registered)
        if n:
            resp = await client.post("/v1/pvs/import", content=body.encode(), headers={"content-type": "text/csv"})
            if resp.status_code not in (200, 201):
                print(f"  (registering PVs failed: HTTP {resp.status_code} {resp.text[:300]})")
        print(f"registered {n} new PV pairs ({len(registered)} already there), tag groups Area and Kind")
        await _wait_connected(client, 2 * len(sim.pvs), 60)
        snap = await _snapshot(client, f"demo {time.strftime('%Y-%m-%d %H:%M:%S')}")
    setpoint = sim.pvs[0].setpoint if sim.pvs else "DEMO:00:P00000:SP"
    print()
    print(f"Squirrel demo is running at {base}  ({len(sim.pvs) * 2} simulated PVs; data in {data_dir})")
    print(f"admin API key: {token}")
    print(f"Console: open {base}/ui/ and sign in with the key above.")
    print("Try the CLI (in another shell):")
    print(f"  export SQUIRREL_URL={base} SQUIRREL_API_KEY={token}")
    print("  squirrel snapshot list")
    print(f"  squirrel snapshot compare {snap or '<id>'} live")
    print('  squirrel snapshot take --title "after my change"')
    print(f"  squirrel snapshot restore {snap or '<id>'}")
    print("The simulated IOCs (Channel Access):")
    print(f'  export EPICS_CA_ADDR_LIST="{sim.addr_list}" EPICS_CA_AUTO_ADDR_LIST=NO')
    print(f"  caproto-put {setpoint} 42    # then compare with live again")
    print(f"OpenAPI: {base}/schema   Ctrl-C stops everything.", flush=True)


async def run_demo(pvs: int, settings: Settings, sock: socket.socket) -> int:
    from squirrel.logsetup import configure_logging
    from squirrel.tools.sim import start_sim

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    configure_logging("warning", settings.log_json)
    for name in ("httpx", "saq", "uvicorn", "uvicorn.error"):  # keep the demo's own lines readable
        logging.getLogger(name).setLevel(logging.WARNING)
    print(f"starting {_iocs_for(pvs)} simulated IOC(s) with {pvs} PVs ...", flush=True)
    sim = await asyncio.to_thread(start_sim, pvs, _iocs_for(pvs), DEMO_PREFIX, special=False)
    try:
        # libca reads these once, when this process creates its CA context (in the service's monitor).
        os.environ["EPICS_CA_ADDR_LIST"] = sim.addr_list
        os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
        from squirrel.app import create_app

        app = create_app(settings)
        server = _Server(app, settings.host, settings.port, sock)
        print(f"starting the service on {settings.host}:{settings.port} (data in {settings.data_path}) ...")
        await server.start(stop)
        try:
            prepare = asyncio.create_task(
                _prepare(app, f"http://{settings.host}:{settings.port}", sim, settings.data_path)
            )
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({prepare, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if prepare.done():
                prepare.result()
                await waiter
            else:
                prepare.cancel()
        finally:
            print("\nstopping ...", flush=True)
            await server.stop()
    finally:
        await asyncio.to_thread(sim.stop)
    print("stopped.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from squirrel.cli.main import bind_listener, check_database, claim_data_folder
    from squirrel.settings import load_settings

    if not 2 <= args.pvs <= 50_000:
        raise SystemExit("squirrel demo: --pvs must be 2..50000")
    settings = load_settings(host=args.host, port=args.port, data_dir=args.data_dir)
    # Before anything starts: a second demo on this data folder would mix its machine into the first's.
    lock = claim_data_folder(settings)
    sock = bind_listener(settings.host, settings.port)
    check_database(settings)
    try:
        return asyncio.run(run_demo(args.pvs, settings, sock))
    finally:
        if lock is not None:
            lock.release()


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="embedded PostgreSQL + simulator + the service, ready to try")
    p.add_argument("--pvs", type=int, default=5_000, help="simulated PVs (2..50000; pairs = pvs/2)")
    p.add_argument("--host", default="127.0.0.1", help="bind address")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--data-dir", help="data folder (SQUIRREL_DATA_DIR); reused by the next run")
    p.set_defaults(func=cmd_demo)
