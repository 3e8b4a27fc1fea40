"""The db boundary: psycopg errors become SquirrelErrors there, so nothing above db handles the driver's."""

from __future__ import annotations

import pytest

from squirrel.db.pool import DatabaseError, SquirrelPool, connection, is_transient
from squirrel.errors import ConflictError, SquirrelError, UnavailableError, ValidationError


@pytest.mark.parametrize(
    ("sql", "error", "needle"),
    [
        ("INSERT INTO tag_group (name) VALUES ('x'), ('x')", ConflictError, "already exists"),
        ("INSERT INTO tag (group_id, name) VALUES (gen_random_uuid(), 't')", ValidationError, "tag_group"),
        ("INSERT INTO tag_group (name) VALUES ('')", ValidationError, "check constraint"),
        ("SELECT 1/0", ValidationError, "division by zero"),
    ],
)
async def test_constraint_and_data_errors(
    pool: SquirrelPool, sql: str, error: type[SquirrelError], needle: str
) -> None:
    with pytest.raises(error) as caught:
        async with connection(pool) as conn:
            await conn.execute(sql)  # type: ignore[arg-type]
    assert needle in caught.value.detail
    assert isinstance(caught.value.__cause__, DatabaseError)  # the driver's error stays the cause, for the log


async def test_a_bug_stays_the_drivers_error(pool: SquirrelPool) -> None:
    """An SQL error is no caller's fault: it is not translated and leaves as a 500 (internal handler)."""
    with pytest.raises(DatabaseError):
        async with connection(pool) as conn:
            await conn.execute("SELEC 1")


async def test_terminated_backend_is_unavailable_and_transient(pool: SquirrelPool) -> None:
    with pytest.raises(UnavailableError) as caught:
        async with connection(pool) as conn:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert is_transient(caught.value)
    assert not is_transient(ValidationError("x"))
