"""Snapshot export and import, in both forms: JSON (exact) and CSV (Phoebus save-and-restore columns).

The JSON form is exact: doubles use the shortest round-trip text, non-finite floats are the strings
"NaN"/"Infinity"/"-Infinity" (read back as floats for float types only: squirrel.pv.from_wire),
timestamps are integer ns. Its side is squirrel.pv.ExportSide, the stored side's fields in camelCase.
The CSV form carries less (see snapshot_csv). An import that duplicates a snapshot we have is a 409
naming it (snapshot_dedupe).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4, uuid5

import msgspec

from squirrel import addresses
from squirrel.db import snapshot_import as import_db
from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.errors import ValidationError
from squirrel.model import NewSnapshotBody, Principal, SnapshotSummaryDTO
from squirrel.pv import ExportSide, StoredSide, encode_side, export_side, import_side
from squirrel.services import audit
from squirrel.services._csvio import decode as decode_csv
from squirrel.services.context import ServiceContext
from squirrel.services.snapshots import _dedupe as snapshot_dedupe
from squirrel.services.snapshots import _importing as snapshot_csv
from squirrel.services.snapshots import take as snap_service
from squirrel.services.snapshots.codec import tally_stored
from squirrel.services.snapshots.read import PVNames, StoredPV, stored_values

FORMAT = "squirrel-snapshot/1"
CSV_TITLE = "Imported CSV"  # a CSV carries no title: `?title=` names the import, else this
_FOREIGN = UUID("5e7a11c0-0000-4000-8000-5a5a5a5a5a5a")  # namespace of ids for addresses not in the registry


class ExportValue(PVNames, gc=False):
    """One PV in the export file: a StoredPV's names in camelCase, its sides ExportSides."""

    setpoint: ExportSide | None = None
    readback: ExportSide | None = None


class ExportHeader(msgspec.Struct, rename="camel", kw_only=True):
    title: str
    description: str | None = None
    comment: str | None = None
    labels: list[str] = msgspec.field(default_factory=list)
    id: UUID | None = None
    created_date: datetime | None = None
    created_by: str | None = None
    source: str | None = None
    pv_count: int | None = None


class ExportDocument(msgspec.Struct, rename="camel", kw_only=True):
    format: str
    snapshot: ExportHeader
    values: list[ExportValue]


def _side_out(side: StoredSide | None) -> ExportSide | None:
    return None if side is None else export_side(side)


def _side_in(side: ExportSide | None) -> StoredSide | None:
    return None if side is None else import_side(side)


_PV = TypeVar("_PV", StoredPV, ExportValue)


def _copy_pv(v: StoredPV | ExportValue, into: type[_PV], side: Callable[[Any], Any]) -> _PV:
    """The PV in the other form, its sides converted by `side` (`_side_out` or `_side_in`)."""
    return into(
        pv_id=v.pv_id,
        setpoint_name=v.setpoint_name,
        readback_name=v.readback_name,
        setpoint=side(v.setpoint),
        readback=side(v.readback),
    )


def _encoded(side: StoredSide | None) -> tuple[bytes, bytes] | tuple[None, None]:
    return (None, None) if side is None else encode_side(side)


async def export_json(ctx: ServiceContext, snapshot_id: UUID) -> bytes:
    head, values = await stored_values(ctx, snapshot_id)
    doc = ExportDocument(
        format=FORMAT,
        snapshot=ExportHeader(**msgspec.structs.asdict(head)),
        values=[_copy_pv(v, ExportValue, _side_out) for v in values],
    )
    return msgspec.json.encode(doc)


async def export_csv(ctx: ServiceContext, snapshot_id: UUID) -> bytes:
    _, values = await stored_values(ctx, snapshot_id)
    async with connection(ctx.pool) as conn:
        registry = await snap_db.tolerances(conn, [v.pv_id for v in values])
    return snapshot_csv.write(values, lambda v: registry.get(v.pv_id, (0.0, 0.0, False))[2])


def _decode_json(raw: bytes) -> ExportDocument:
    try:
        doc = msgspec.json.decode(raw, type=ExportDocument)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"not a snapshot export: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ValidationError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValidationError("the JSON is nested too deeply") from None
    if doc.format != FORMAT:
        raise ValidationError(f"format must be {FORMAT!r}, got {doc.format!r}")
    seen: set[UUID] = set()
    for value in doc.values:
        if value.pv_id in seen:
            raise ValidationError(f"values: PV id {value.pv_id} appears twice")
        seen.add(value.pv_id)
        if not (value.setpoint_name or value.readback_name):
            raise ValidationError(f"values: PV {value.pv_id} has neither setpointName nor readbackName")
    return doc


async def import_json(
    ctx: ServiceContext, raw: bytes, actor: Principal, title: str | None = None
) -> SnapshotSummaryDTO:
    """A new snapshot (source `import`) from an exported JSON document; 409 if we already have it."""
    doc = _decode_json(raw)
    head = doc.snapshot
    body = NewSnapshotBody(
        title=title or head.title, description=head.description, comment=head.comment, labels=head.labels
    )
    pvs = [_copy_pv(v, StoredPV, _side_in) for v in doc.values]
    return await _store(ctx, snap_service.spec_from_body(body, True, actor), pvs, head.id, actor)


async def import_csv(ctx: ServiceContext, raw: bytes, actor: Principal, title: str | None = None) -> SnapshotSummaryDTO:
    """A new snapshot from the CSV export; PV ids come from the registry by address (see snapshot_csv)."""
    spec = snap_service.spec_from_body(NewSnapshotBody(title=title or CSV_TITLE), True, actor)

    def labels(address: str) -> list[str] | None:
        state = ctx.cache.get(address)
        return state.enum_strings if state is not None else None

    rows = snapshot_csv.parse(decode_csv(raw), labels, ctx.settings.default_protocol)
    keys = [a for r in rows for a in (r.setpoint_name, r.readback_name) if a]
    async with connection(ctx.pool) as conn:  # the other protocol's keys too: to name a mix-up
        registry = await import_db.registry_ids(conn, keys + [addresses.other_key(k) for k in keys])
    _refuse_mix_ups(rows, {a for _, sp, rb in registry for a in (sp, rb) if a})
    by_pair = {(sp, rb): pv_id for pv_id, sp, rb in registry}
    by_setpoint = {sp: pv_id for pv_id, sp, _ in registry if sp}
    by_readback = {rb: pv_id for pv_id, sp, rb in registry if rb and not sp}
    pvs: list[StoredPV] = []
    for r in rows:
        pv_id = (
            by_pair.get((r.setpoint_name, r.readback_name))
            or (by_setpoint.get(r.setpoint_name) if r.setpoint_name else by_readback.get(r.readback_name or ""))
            or uuid5(_FOREIGN, f"{r.setpoint_name or ''}|{r.readback_name or ''}")  # stable: imports compare
        )
        pvs.append(StoredPV(pv_id=pv_id, setpoint_name=r.setpoint_name, readback_name=r.readback_name,
                            setpoint=r.setpoint, readback=r.readback))  # fmt: skip
    ids = [p.pv_id for p in pvs]
    if len(set(ids)) != len(ids):
        raise ValidationError("the CSV names one registry PV in two rows (once by its setpoint, once by its readback)")
    return await _store(ctx, spec, pvs, None, actor)


def _refuse_mix_ups(rows: list[snapshot_csv.CsvPV], registered: set[str]) -> None:
    """A CSV address whose name the registry holds only under the other protocol is a 400, never a match
    (and not an unknown PV either: most likely a mistyped prefix)."""
    for r in rows:
        for column, key in (("PV", r.setpoint_name or r.readback_name), ("READBACK", r.readback_name)):
            if key and key not in registered and addresses.other_key(key) in registered:
                written = key if addresses.protocol_of(key) == "pva" else f"ca://{key}"
                raise ValidationError(
                    f"CSV line {r.line}: {column} {written} is not registered: {addresses.mix_up(written, key)}"
                )


async def _store(
    ctx: ServiceContext, spec: snap_service.SnapshotSpec, pvs: list[StoredPV], source: UUID | None, actor: Principal
) -> SnapshotSummaryDTO:
    """Store an import in one transaction, under the import lock, after the duplicate check."""
    pvs.sort(key=lambda v: (v.pv_name, v.pv_id))
    rows: list[snap_db.StoreRow] = []
    for v in pvs:
        (sp, sp_val), (rb, rb_val) = _encoded(v.setpoint), _encoded(v.readback)
        rows.append((v.pv_id.bytes, v.setpoint_name, v.readback_name, sp, rb, sp_val, rb_val))
    tally = tally_stored(rows)  # the missing counts as the file stored them
    snapshot_id = uuid4()
    async with connection(ctx.pool) as conn:
        await import_db.lock(conn)
        digest = await snapshot_dedupe.check(ctx, conn, spec.title, source, pvs)
        row = await snap_db.insert(
            conn,
            {
                "id": snapshot_id, "job_id": None, "title": spec.title, "description": spec.description,
                "comment": spec.comment, "labels": spec.labels, "created_by": actor.name, "source": "import",
                "pv_count": len(rows), "missing_disconnected": tally.disconnected,
                "missing_no_value": tally.no_value, "stale_count": tally.stale,
            },
        )  # fmt: skip
        await snap_db.copy_raw(conn, snapshot_id, rows)
        await snap_db.set_tags(conn, snapshot_id)
        await import_db.set_origin(conn, snapshot_id, source, digest)
        await audit.record(
            conn, actor, "snapshot.create", "snapshot", snapshot_id, f"'{spec.title}': {len(rows):,} PVs (import)"
        )
    return snap_service.summary(row)
