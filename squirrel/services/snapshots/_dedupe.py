"""Is an imported file a snapshot we already have? (API.md: same source id, or same title, time and values)

The digest covers the title and, per PV, what both export formats carry: addresses, the values as the
CSV writes them, and the EPICS time and alarm of the row (the snapshot's time is in those timestamps).
So a JSON and a CSV export of one snapshot have the same digest, and a snapshot taken here can be
recognised by computing its digest from its stored values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec

from squirrel.db import snapshot_import as import_db
from squirrel.errors import ConflictError
from squirrel.services.context import ServiceContext
from squirrel.services.snapshots._importing import value_text
from squirrel.services.snapshots.read import StoredPV, stored_values

CANDIDATES = 5  # snapshots taken here with the same title and size whose values are compared
_encode = msgspec.json.Encoder().encode


def digest(title: str, pvs: Iterable[StoredPV]) -> bytes:
    rows: list[tuple[Any, ...]] = []
    for v in pvs:
        main = v.setpoint or v.readback
        rows.append(
            (
                v.setpoint_name or "",
                v.readback_name or "",
                value_text(v.setpoint),
                value_text(v.readback),
                main.timestamp_ns if main is not None else None,
                main.status if main is not None else "",
                main.severity if main is not None else 3,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    return hashlib.sha256(_encode([title, rows])).digest()


def _conflict(row: dict[str, Any], why: str, remedy: str) -> ConflictError:
    created = row["created_at"].isoformat().replace("+00:00", "Z")
    return ConflictError(
        f"{why} snapshot {row['id']} ('{row['title']}', {created}); {remedy}", existingId=str(row["id"])
    )


async def check(ctx: ServiceContext, conn: Any, title: str, source: UUID | None, pvs: Sequence[StoredPV]) -> bytes:
    """Raise ConflictError naming the snapshot this import duplicates; returns the file's digest.
    `conn` holds the import lock, so the answer stays true until the import commits."""
    own = digest(title, pvs)
    row = await import_db.duplicate(conn, source, own)
    again = "delete it first to import the file again"
    if row is not None and source is not None and row["id"] == source:
        raise _conflict(row, "this file is the export of", again)
    if row is not None and source is not None and row["import_source"] == source:
        raise _conflict(row, "this file was already imported as", again)
    other_title = "delete it first, or import under another title (?title=)"
    if row is not None:
        raise _conflict(row, "same title, time and values as", other_title)
    for candidate in await import_db.candidates(conn, title, len(pvs), CANDIDATES):
        _, values = await stored_values(ctx, candidate["id"])
        if digest(title, values) == own:
            raise _conflict(candidate, "same title, time and values as", other_title)
    return own
