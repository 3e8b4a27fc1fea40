"""The connection type of every repository and the one set of helpers that run a named query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import msgspec
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

# Connections come from the pool with the default tuple rows; dict rows are asked per cursor.
Conn = AsyncConnection[Any]
Row = dict[str, Any]


class Page(NamedTuple):
    """An offset page of a listing: at most `limit` rows after the first `offset` (every such query takes
    its filters plus :limit and :offset)."""

    limit: int
    offset: int

    def params(self, **filters: Any) -> dict[str, Any]:
        return {**filters, "limit": self.limit, "offset": self.offset}


Params = Mapping[str, Any] | None
S = TypeVar("S", bound=msgspec.Struct)


def as_struct(cls: type[S], row: Row, /, **given: Any) -> S:
    """`cls` with each field taken from the row's column of the same name, except the fields in `given`
    (columns named otherwise, values reshaped). A field with neither is a KeyError: a query that lost a
    column fails here, not as a silent default."""
    return cls(**{name: row[name] for name in cls.__struct_fields__ if name not in given}, **given)


async def fetch_all(conn: Conn, name: str, params: Params = None) -> list[Row]:
    """Every row of query `name` as a dict (column name → value)."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q(name), params)
    return await cur.fetchall()


async def fetch_one(conn: Conn, name: str, params: Params = None) -> Row | None:
    """The first row of query `name` as a dict, or None when it returns none."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q(name), params)
    return await cur.fetchone()


async def fetch_tuples(conn: Conn, name: str, params: Params = None, *, binary: bool = False) -> list[Any]:
    """Every row of query `name` as a tuple; `binary` transfers in binary (the raw bytes of a bytea).
    Typed Any: the caller names the row shape its query returns (PVRow, ValueRow, ...)."""
    cur = conn.cursor(binary=binary)
    await cur.execute(q(name), params)
    return await cur.fetchall()


async def fetch_scalar(conn: Conn, name: str, params: Params = None) -> Any:
    """The first column of the first row of query `name` (None when no row)."""
    cur = await conn.execute(q(name), params)
    row = await cur.fetchone()
    return None if row is None else row[0]


async def execute(conn: Conn, name: str, params: Params = None) -> int:
    """Run query `name`; the number of rows it touched."""
    cur = await conn.execute(q(name), params)
    return cur.rowcount


async def copy_rows(conn: Conn, name: str, types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Binary COPY of `rows` (columns of PostgreSQL `types`) through the COPY statement `name`."""
    cur = conn.cursor()
    async with cur.copy(q(name)) as copy:
        copy.set_types(list(types))
        for row in rows:
            await copy.write_row(row)
