"""The service under test as a subprocess (`python -m squirrel serve`), so its RSS and CPU are its own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

from squirrel.tools.bench.softioc import free_port


def _high_water_bytes(pid: int) -> int:
    """VmHWM from /proc/<pid>/status: the peak RSS of the process since it started."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class RssSampler:
    """Samples the RSS of whichever service process runs now; keeps the peak over the whole run."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._proc: psutil.Process | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")
        self._thread.start()

    def watch(self, pid: int | None) -> None:
        try:
            self._proc = psutil.Process(pid) if pid is not None else None
        except psutil.Error:
            self._proc = None

    def current_bytes(self) -> int:
        proc = self._proc
        try:
            rss = int(proc.memory_info().rss) if proc is not None else 0
        except psutil.Error:
            return 0
        # The kernel's high-water mark catches spikes between two samples (Linux; RSS alone elsewhere).
        self.peak_bytes = max(self.peak_bytes, rss, _high_water_bytes(proc.pid) if proc is not None else 0)
        return rss

    def cpu_seconds(self) -> float:
        proc = self._proc
        try:
            times = proc.cpu_times() if proc is not None else None
        except psutil.Error:
            return 0.0
        return float(times.user + times.system) if times is not None else 0.0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.current_bytes()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


class ServiceProcess:
    """One `squirrel serve` subprocess on a free port, talking to the given database and IOCs."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        addr_list: str,
        roles: str = "api,monitor,worker",
        log_path: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.addr_list = addr_list
        self.roles = roles
        self.log_path = log_path or data_dir / "service.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SQUIRREL_DATABASE_URL=self.database_url,
            SQUIRREL_DATA_DIR=str(self.data_dir),
            SQUIRREL_ROLES=self.roles,
            SQUIRREL_LOG_LEVEL="warning",
            SQUIRREL_LOG_JSON="true",
            SQUIRREL_METRICS_ENABLED="true",
            # Set for the child before it creates its CA context (libca reads them once).
            EPICS_CA_ADDR_LIST=self.addr_list,
            EPICS_CA_AUTO_ADDR_LIST="NO",
            EPICS_CA_MAX_ARRAY_BYTES=os.environ.get("EPICS_CA_MAX_ARRAY_BYTES", "1000000"),
        )
        return env

    def start(self) -> None:
        self.port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.spawned_at = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "squirrel", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            preexec_fn=_die_with_parent,
        )

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from spawn until /healthz answers; raises when the process dies or times out."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"service exited during start-up; see {self.log_path}: {self.log_tail()}")
                try:
                    if client.get(self.base_url + "/healthz").status_code == 200:
                        return time.perf_counter() - self.spawned_at
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"service did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _die_with_parent() -> None:
    """Linux: the service gets SIGTERM if the bench dies without cleaning up (no orphaned server)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text → {sample name: value}, label sets summed (enough for the bench's gauges and counters).

    Keyed by the sample's name as exposed (a counter's `_total` included), not the family's."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + float(sample.value)
    return out


def create_key(database_url: str, data_dir: Path, name: str) -> str:
    """An admin key made with `squirrel keys create` against the bench database (applies migrations)."""
    env = dict(os.environ, SQUIRREL_DATABASE_URL=database_url, SQUIRREL_DATA_DIR=str(data_dir))
    env["SQUIRREL_LOG_LEVEL"] = "warning"
    done = subprocess.run(
        [sys.executable, "-m", "squirrel", "keys", "create", name, "--scopes", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("sq_"):
        raise RuntimeError(f"squirrel keys create failed: {done.stderr.strip()[-500:] or done.stdout[-500:]}")
    return lines[-1].strip()
