"""POST /v1/pvs/import?validateOnly=true: every row error of a registry CSV, nothing written.

The same checks as the import (csvio parsing, clean_new, duplicates in the file, setpoint addresses
already registered), collected per line instead of stopping at the first.
"""

from __future__ import annotations

from squirrel.db import pvs as pvs_db
from squirrel.db.pool import connection
from squirrel.errors import ValidationError
from squirrel.model import ImportRowError, NewPVElementDTO, PVImportCheck
from squirrel.services import _csvio as csvio
from squirrel.services.context import ServiceContext
from squirrel.services.registry import address_keys, clean_new


async def check_csv(ctx: ServiceContext, data: bytes) -> PVImportCheck:
    rows, errors = csvio.parse_collect(csvio.decode(data))
    row_count = len(rows) + len(errors)  # rows that could not even be parsed are rows too
    first_line: dict[str, int] = {}
    for r in rows:
        item = NewPVElementDTO(
            setpoint_address=r.setpoint, readback_address=r.readback, device=r.device, description=r.description
        )
        where = f"CSV line {r.line}: "
        try:
            clean_new(item, where)
            # Compared by channel key, as the import and the database do: FOO and ca://FOO are one PV.
            address = address_keys(item, ctx.settings.default_protocol, where)[0]
        except ValidationError as exc:
            errors.append((r.line, exc.detail))
            continue
        if address is None:
            continue
        if address in first_line:
            first = first_line[address]
            errors.append((r.line, f"{where}duplicate Setpoint {address!r} (first at line {first})"))
        else:
            first_line[address] = r.line
    async with connection(ctx.pool) as conn:
        taken = await pvs_db.existing_setpoints(conn, list(first_line))
    for address in taken:
        line = first_line[address]
        errors.append((line, f"CSV line {line}: a PV with setpoint address {address!r} already exists"))
    errors.sort(key=lambda e: e[0])
    return PVImportCheck(
        valid=not errors,
        row_count=row_count,
        error_count=len(errors),
        errors=[ImportRowError(line=line, detail=detail) for line, detail in errors],
    )
