"""check_csv (POST /v1/pvs/import?validateOnly=true): every row error of a registry CSV, nothing written."""

from __future__ import annotations

import pytest

from squirrel.db.pool import connection
from squirrel.errors import SquirrelError, ValidationError
from squirrel.model import NewPVElementDTO
from squirrel.services.context import ServiceContext
from squirrel.services.keys import SYSTEM
from squirrel.services.registry import RegistryService
from squirrel.services.registry_check import check_csv


def _errors(check: object) -> list[tuple[int, str]]:
    return [(e.line, e.detail) for e in check.errors]  # type: ignore[attr-defined]


async def test_a_clean_file_is_valid_and_nothing_is_written(ctx: ServiceContext) -> None:
    data = b"Setpoint,Readback,Device,Area\nA:SP,A:RB,dev,Linac\n\nB:SP,,,Ring;Linac\n"
    check = await check_csv(ctx, data)
    assert (check.valid, check.row_count, check.error_count, check.errors) == (True, 2, 0, [])
    async with connection(ctx.pool) as conn:
        cur = await conn.execute("SELECT (SELECT count(*) FROM pv), (SELECT count(*) FROM tag_group)")
        assert await cur.fetchone() == (0, 0)


async def test_every_row_error_is_reported_in_line_order(ctx: ServiceContext) -> None:
    await RegistryService(ctx).create(SYSTEM, NewPVElementDTO(setpoint_address="TAKEN:SP"))
    data = (
        b"Setpoint,Readback,Description\n"
        b"OK:1,,\n"  # line 2
        b"TAKEN:SP,,\n"  # line 3: registered already
        b",,only a description\n"  # line 4: no address at all
        b"OK:1,,\n"  # line 5: duplicate of line 2
        b"X,Y,d,extra\n"  # line 6: too many fields
        b"OK:2,,\n"  # line 7
    )
    check = await check_csv(ctx, data)
    assert (check.valid, check.row_count, check.error_count) == (False, 6, 4)
    assert _errors(check) == [
        (3, "CSV line 3: a PV with setpoint address 'TAKEN:SP' already exists"),
        (4, "CSV line 4: at least one of setpointAddress, readbackAddress, configAddress is required"),
        (5, "CSV line 5: duplicate Setpoint 'OK:1' (first at line 2)"),
        (6, "CSV line 6 has 4 fields but the header has 3"),
    ]


async def test_a_file_of_only_a_header_is_valid_and_empty(ctx: ServiceContext) -> None:
    check = await check_csv(ctx, b"Setpoint\n")
    assert (check.valid, check.row_count, check.errors) == (True, 0, [])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the CSV is empty"),
        (b"Readback\nX\n", "must have a 'Setpoint' column"),
        (b"Setpoint\n\xff\n", "not valid UTF-8"),
        (b'Setpoint\n"open\n', "CSV line"),
    ],
)
async def test_a_file_that_cannot_be_read_at_all_raises(ctx: ServiceContext, data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await check_csv(ctx, data)


async def _import_fails(ctx: ServiceContext, data: bytes) -> bool:
    try:
        await RegistryService(ctx).import_csv(SYSTEM, data)
    except SquirrelError:
        return True
    return False


async def test_a_prefixed_address_of_a_registered_pv_is_reported(ctx: ServiceContext) -> None:
    await RegistryService(ctx).create(SYSTEM, NewPVElementDTO(setpoint_address="TAKEN:SP"))
    data = b"Setpoint\nca://TAKEN:SP\n"
    assert await _import_fails(ctx, data)
    check = await check_csv(ctx, data)
    assert check.valid is False
    assert [(e.line, e.detail) for e in check.errors] == [
        (2, "CSV line 2: a PV with setpoint address 'TAKEN:SP' already exists")
    ]


async def test_one_address_written_two_ways_is_a_duplicate(ctx: ServiceContext) -> None:
    data = b"Setpoint\nX:SP\nca://X:SP\n"
    assert await _import_fails(ctx, data)
    check = await check_csv(ctx, data)
    assert [(e.line, e.detail) for e in check.errors] == [
        (3, "CSV line 3: duplicate Setpoint 'X:SP' (first at line 2)")
    ]


async def test_an_unknown_protocol_prefix_is_reported(ctx: ServiceContext) -> None:
    data = b"Setpoint\nhttp://X\n"
    assert await _import_fails(ctx, data)
    check = await check_csv(ctx, data)
    assert check.valid is False and check.error_count == 1
    assert check.errors[0].detail.startswith("CSV line 2: setpointAddress:")
