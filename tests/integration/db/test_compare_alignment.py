"""Compare's two queries return the same rows, whatever happened to the registry between two snapshots.

For two snapshots of the same registry compare merges their rows along idx (compare_aligned_sides);
otherwise it hashes one snapshot by PV id (compare_snapshot_sides). Which one runs is a choice of speed
only, so here both run on every case, including the ones the alignment probe sends to the other query.
"""

from __future__ import annotations

import random
from uuid import UUID, uuid4

import pytest

from squirrel.db import compare as compare_db
from squirrel.db.pool import SquirrelPool, connection
from squirrel.db.rows import Conn, fetch_tuples
from tests.integration.db.test_snapshot_copy import _snapshot

N = 400

Row = tuple[UUID, str, str | None, bytes | None, bytes | None]  # pv id, name, readback name, sp, rb


def _registry(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    for i in range(N):
        rb_name = f"R:{i:04d}" if i % 5 else None  # every fifth PV has no readback
        rows.append((uuid4(), f"S:{i:04d}", rb_name, bytes([i % 7]), bytes([i % 3]) if rb_name else None))
    return rows


async def _store(conn: Conn, rows: list[Row]) -> UUID:
    sid = await _snapshot(conn, len(rows))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO snapshot_value (snapshot_id, idx, pv_id, setpoint_name, readback_name, setpoint_value,"
            " readback_value) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(sid, idx, pv, name, rb_name, sp, rb) for idx, (pv, name, rb_name, sp, rb) in enumerate(rows)],
        )
    return sid


def _changed_values(rows: list[Row], rng: random.Random) -> list[Row]:
    out = []
    for pv, name, rb_name, sp, rb in rows:
        if rng.random() < 0.1:
            sp = b"\xff"
        if rb is not None and rng.random() < 0.1:
            rb = None if rng.random() < 0.3 else b"\xfe"  # a readback lost, or changed
        out.append((pv, name, rb_name, sp, rb))
    return out


def _inserted(rows: list[Row], rng: random.Random) -> list[Row]:
    out = list(rows)
    for at in (0, N // 3, N // 2):
        out.insert(at, (uuid4(), f"S:{at:04d}a", None, b"\x01", None))
    return out


def _removed(rows: list[Row], rng: random.Random) -> list[Row]:
    return [row for i, row in enumerate(rows) if i not in (1, N // 4, N - 1)]


def _swapped(rows: list[Row], rng: random.Random) -> list[Row]:
    """Two PVs trade places (a rename of each), and one PV is replaced by a new one at its idx."""
    out = list(rows)
    out[10], out[20] = out[20], out[10]
    out[30] = (uuid4(), out[30][1], None, out[30][3], None)
    return out


def _everything(rows: list[Row], rng: random.Random) -> list[Row]:
    return _swapped(_removed(_inserted(_changed_values(rows, rng), rng), rng), rng)


def _shuffled(rows: list[Row], rng: random.Random) -> list[Row]:
    out = list(rows)
    rng.shuffle(out)
    return out


# case: (how the second snapshot differs from the first, aligned?, does any row differ?)
CASES = {
    "same": (lambda rows, rng: list(rows), True, False),
    "values changed": (_changed_values, True, True),
    "PVs inserted": (_inserted, False, True),
    "PVs removed": (_removed, False, True),
    "PVs swapped and replaced": (_swapped, True, True),  # the probes miss idx 10, 20 and 30
    "everything": (_everything, False, True),
    "the same PVs in another order": (_shuffled, False, False),  # every idx differs, no value does
}


@pytest.mark.parametrize("case", list(CASES))
async def test_both_queries_return_the_same_rows(pool: SquirrelPool, case: str) -> None:
    change, aligned, differs = CASES[case]
    rng = random.Random(case)
    first_rows = _registry(rng)
    second_rows = change(first_rows, rng)
    async with connection(pool) as conn:
        first = await _store(conn, first_rows)
        second = await _store(conn, second_rows)
        await conn.execute("ANALYZE snapshot_value")
        counts = (len(first_rows), len(second_rows))
        assert await compare_db.aligned(conn, first, second, counts) is aligned
        params = {"first": first, "second": second}
        by_id = await fetch_tuples(conn, "compare_snapshot_sides", params, binary=True)
        by_idx = await fetch_tuples(conn, "compare_aligned_sides", params, binary=True)
        chosen = await compare_db.differing_rows(conn, first, second, counts)
    assert sorted(by_idx) == sorted(by_id)
    assert sorted(chosen) == sorted(by_id)
    assert bool(by_id) is differs


async def test_aligned_snapshots_are_merged_along_idx_without_a_hash(pool: SquirrelPool) -> None:
    rows = _registry(random.Random(1))
    async with connection(pool) as conn:
        first = await _store(conn, rows)
        second = await _store(conn, _changed_values(rows, random.Random(2)))
        await conn.execute("ANALYZE snapshot_value")
    async with connection(pool) as conn:
        plan = await compare_db.plan(conn, first, second, (N, N))
    assert "Merge Full Join" in plan and "Hash" not in plan, plan


def test_probe_positions_cover_both_ends() -> None:
    assert compare_db.probe_positions(0) == []
    assert compare_db.probe_positions(1) == [0]
    assert compare_db.probe_positions(5) == [0, 1, 2, 3, 4]
    positions = compare_db.probe_positions(200_000)
    assert positions[0] == 0 and positions[-1] == 199_999 and len(positions) == compare_db.PROBES
