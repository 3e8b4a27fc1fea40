"""The binary COPY builder of snapshot values, round-tripped through real PostgreSQL."""

from __future__ import annotations

from uuid import UUID, uuid4

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import SquirrelPool, connection
from squirrel.db.rows import Conn


async def _snapshot(conn: Conn, count: int) -> UUID:
    row = await snap_db.insert(
        conn,
        {
            "id": uuid4(),
            "job_id": None,
            "title": "copy test",
            "description": None,
            "comment": None,
            "labels": [],
            "created_by": "test",
            "source": "direct",
            "pv_count": count,
            "missing_disconnected": 0,
            "missing_no_value": 0,
            "stale_count": 0,
        },
    )
    return UUID(str(row["id"]))


def _store_rows(n: int, blob: int) -> list[snap_db.StoreRow]:
    """Every shape a row can take: both names, one missing, unicode, empty and NULL sides."""
    rows: list[snap_db.StoreRow] = []
    for i in range(n):
        sp = f"SR:{i}:SP-é" if i % 3 else None
        rb = f"SR:{i}:RB" if i % 4 else None
        full = bytes([i % 251]) * blob
        value_only = b"v%d" % i if sp else None
        rows.append((uuid4().bytes, sp, rb, full if sp else None, b"" if rb else None, value_only, None))
    return rows


async def _read_back(conn: Conn, sid: UUID, n: int) -> list[snap_db.StoreRow]:
    full = await snap_db.values(conn, sid, 0, n)
    only = await snap_db.value_sides(conn, sid)
    assert len(full) == len(only) == n
    return [(o[0], f[1], f[2], f[3], f[4], o[3], o[4]) for f, o in zip(full, only, strict=True)]


async def test_copy_raw_round_trip(pool: SquirrelPool) -> None:
    rows = _store_rows(50, 40)
    async with connection(pool) as conn:
        sid = await _snapshot(conn, len(rows))
        assert await snap_db.copy_raw(conn, sid, rows) == len(rows)
    async with connection(pool) as conn:
        assert await _read_back(conn, sid, len(rows)) == rows  # idx keeps the order given


async def test_copy_raw_over_several_pieces(pool: SquirrelPool) -> None:
    """~3 MB of values: the buffer is sent in 1 MB pieces, rows split across them arrive whole."""
    rows = _store_rows(1500, 2000)
    pieces = list(snap_db.copy_pieces(uuid4(), rows, snap_db.write_encoded_sides))
    assert len(pieces) >= 3
    async with connection(pool) as conn:
        sid = await _snapshot(conn, len(rows))
        await snap_db.copy_raw(conn, sid, rows)
    async with connection(pool) as conn:
        assert await _read_back(conn, sid, len(rows)) == rows


async def test_copy_selected_takes_a_sides_writer(pool: SquirrelPool) -> None:
    """The selected-PV path: the writer appends the four side fields itself (framed with LEN / NULL)."""
    sides = {"A:SP": (b"full-a", b"val-a"), "A:RB": (b"full-rb", b"val-rb")}

    def write(buf: bytearray, row: snap_db.PVRow) -> None:
        for address in (row[1], row[2]):
            if address is None:
                buf += snap_db.NULL + snap_db.NULL
                continue
            for blob in sides[address]:
                buf += snap_db.LEN.pack(len(blob)) + blob

    pvs: list[snap_db.PVRow] = [(uuid4().bytes, "A:SP", "A:RB"), (uuid4().bytes, None, "A:RB")]
    async with connection(pool) as conn:
        sid = await _snapshot(conn, 2)
        assert await snap_db.copy_selected(conn, sid, pvs, write) == 2
    async with connection(pool) as conn:
        back = await _read_back(conn, sid, 2)
    assert back == [
        (pvs[0][0], "A:SP", "A:RB", b"full-a", b"full-rb", b"val-a", b"val-rb"),
        (pvs[1][0], None, "A:RB", None, b"full-rb", None, b"val-rb"),
    ]


def test_pieces_are_one_valid_stream() -> None:
    data = b"".join(snap_db.copy_pieces(uuid4(), [], snap_db.write_encoded_sides))
    assert data == b"PGCOPY\n\xff\r\n\0" + bytes(8) + b"\xff\xff"  # header, no rows, trailer
