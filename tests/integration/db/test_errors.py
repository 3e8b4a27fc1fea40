"""psycopg errors leave the db boundary as our errors: the whole SQLSTATE class 22 is the caller's 400."""

from __future__ import annotations

import pytest

from squirrel.db.pool import SquirrelPool, connection
from squirrel.errors import ConflictError, ValidationError


@pytest.mark.parametrize(
    ("sql", "params", "needle"),
    [
        ("SELECT %s::text", ["a\x00b"], "NUL"),  # psycopg's own client-side DataError
        ("SELECT %s::int4", [2**40], "out of range"),  # 22003
        ("SELECT %s::bigint", [str(2**64)], "out of range"),  # 22003 from text
        ("SELECT 1 / 0", [], "division by zero"),  # 22012
        ("SELECT '2026-13-45'::date", [], "out of range"),  # 22008
        ("SELECT 'x'::uuid", [], "invalid input syntax"),  # 22P02
    ],
)
async def test_class_22_is_a_validation_error(pool: SquirrelPool, sql: str, params: list[object], needle: str) -> None:
    with pytest.raises(ValidationError) as caught:
        async with connection(pool) as conn:
            await conn.execute(sql, params)  # type: ignore[arg-type]
    assert needle.lower() in caught.value.detail.lower()
    assert caught.value.status == 400


async def test_unique_violation_is_a_conflict(pool: SquirrelPool) -> None:
    with pytest.raises(ConflictError):
        async with connection(pool) as conn:
            await conn.execute("CREATE TEMP TABLE u (x int PRIMARY KEY)")
            await conn.execute("INSERT INTO u VALUES (1), (1)")
