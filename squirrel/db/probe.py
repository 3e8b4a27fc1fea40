"""One connection attempt before anything starts, so a wrong SQUIRREL_DATABASE_URL is one line that says
what to fix instead of an exception group from deep inside the server's start-up."""

from __future__ import annotations

import psycopg

from squirrel.errors import ConfigError

CONNECT_TIMEOUT = 5  # seconds; a database that does not answer in this time is reported as such


def _one_line(exc: Exception) -> str:
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return text.removeprefix("connection failed: ") or type(exc).__name__


def probe(conninfo: str, shown_as: str) -> str:
    """Connect once and ask the server's version; returns it ("PostgreSQL 18.1"). Raises ConfigError
    naming the database as `shown_as` (secrets masked) and what to do."""
    try:
        with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.ProgrammingError as exc:  # the URL itself does not parse
        raise ConfigError(
            f"SQUIRREL_DATABASE_URL is not a PostgreSQL URL ({_one_line(exc)}); "
            "expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or unset it for the embedded database"
        ) from None
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot connect to the database {shown_as}: {_one_line(exc)}; "
            "check SQUIRREL_DATABASE_URL (host, port, user, password, database) and that PostgreSQL runs there"
        ) from None
    version = str(row[0]).split()[0] if row else "?"
    return f"PostgreSQL {version}"
