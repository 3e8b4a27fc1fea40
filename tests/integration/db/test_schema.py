"""Every named query parses against the migrated schema; migrations are idempotent and checksummed."""

from __future__ import annotations

import psycopg
import pytest

from squirrel.db.migrate import migrate
from squirrel.db.queries import all_queries
from squirrel.errors import ConfigError


@pytest.mark.parametrize("name", sorted(all_queries()))
def test_query_prepares(database_url: str, name: str) -> None:
    sql = all_queries()[name]
    # PREPARE wants $n placeholders: let psycopg convert %(name)s by using a server-side prepared statement.
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        if sql.lstrip().upper().startswith("COPY"):
            with cur.copy(sql):  # type: ignore[arg-type]
                pass  # no rows: the server still checks the table and columns
            conn.rollback()
            return
        params = {key: None for key in _param_names(sql)}
        try:
            cur.execute(f"EXPLAIN {sql}" if _explainable(sql) else sql, params, prepare=True)
        except psycopg.errors.NotNullViolation:
            pass  # parsed and planned; the NULL placeholders just violate a constraint
        except (psycopg.errors.CheckViolation, psycopg.errors.InvalidParameterValue):
            pass
        conn.rollback()


def _param_names(sql: str) -> list[str]:
    import re

    return sorted(set(re.findall(r"%\((\w+)\)s", sql)))


def _explainable(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES"}


async def test_migrate_is_idempotent(database_url: str) -> None:
    assert await migrate(database_url) == []


async def test_changed_migration_is_refused(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(ConfigError, match="changed after it was applied"):
        await migrate(database_url)
