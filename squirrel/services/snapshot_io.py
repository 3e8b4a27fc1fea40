"""Snapshot export (CSV in the Phoebus save-and-restore columns; JSON) and import of the JSON form.

The JSON form is exact: doubles use the shortest round-trip text, non-finite floats are the strings
"NaN"/"Infinity"/"-Infinity" (read back as floats for float types only), timestamps are integer ns.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.epics.values import to_wire
from squirrel.errors import ValidationError
from squirrel.model import NewSnapshotBody, Principal, SnapshotSummaryDTO
from squirrel.services import snapshots as snap_service
from squirrel.services.context import ServiceContext
from squirrel.services.snapshot_codec import StoredSide, encode_side, native_value, ns_to_datetime
from squirrel.services.snapshot_read import StoredPV, stored_values

FORMAT = "squirrel-snapshot/1"
CSV_COLUMNS = (
    "PV", "SELECTED", "TIMESTAMP", "STATUS", "SEVERITY", "VALUE_TYPE", "VALUE",
    "READBACK", "READBACK_VALUE", "DELTA", "READ_ONLY",
)  # fmt: skip
_SEVERITY = ("NO_ALARM", "MINOR", "MAJOR", "INVALID")


# gc=False (no reference cycles): an export builds 150K of these, which must not trigger full collections.
class ExportSide(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    value: Any
    type: str | None
    enum_index: int | None = None
    connected: bool = False
    status: str = "UDF"
    severity: int = 3
    timestamp_ns: int | None = None
    units: str | None = None
    precision: int | None = None
    upper_ctrl_limit: Any = None
    lower_ctrl_limit: Any = None
    enum_strings: list[str] | None = None
    age_seconds: float | None = None
    has_value: bool = True


class ExportValue(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    pv_id: UUID
    setpoint_name: str | None = None
    readback_name: str | None = None
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
    if side is None:
        return None
    return ExportSide(
        value=to_wire(side.value),
        type=side.type,
        enum_index=side.enum_index,
        connected=side.connected,
        status=side.status,
        severity=side.severity,
        timestamp_ns=side.timestamp_ns,
        units=side.units,
        precision=side.precision,
        upper_ctrl_limit=to_wire(side.upper_ctrl_limit),
        lower_ctrl_limit=to_wire(side.lower_ctrl_limit),
        enum_strings=side.enum_strings,
        age_seconds=side.age_seconds,
        has_value=side.has_value,
    )


def _side_in(side: ExportSide | None) -> tuple[bytes, bytes] | tuple[None, None]:
    if side is None:
        return None, None
    return encode_side(
        StoredSide(
            value=native_value(side.value, side.type),
            type=side.type,
            enum_index=side.enum_index,
            connected=side.connected,
            status=side.status,
            severity=side.severity,
            timestamp_ns=side.timestamp_ns,
            units=side.units,
            precision=side.precision,
            upper_ctrl_limit=native_value(side.upper_ctrl_limit, "double"),
            lower_ctrl_limit=native_value(side.lower_ctrl_limit, "double"),
            enum_strings=side.enum_strings,
            age_seconds=side.age_seconds,
            has_value=side.has_value,
        )
    )


async def export_json(ctx: ServiceContext, snapshot_id: UUID) -> bytes:
    head, values = await stored_values(ctx, snapshot_id)
    doc = ExportDocument(
        format=FORMAT,
        snapshot=ExportHeader(**msgspec.structs.asdict(head)),
        values=[
            ExportValue(
                pv_id=v.pv_id,
                setpoint_name=v.setpoint_name,
                readback_name=v.readback_name,
                setpoint=_side_out(v.setpoint),
                readback=_side_out(v.readback),
            )
            for v in values
        ],
    )
    return msgspec.json.encode(doc)


def _csv_value(side: StoredSide | None) -> str:
    if side is None or not side.has_value:
        return ""
    value = to_wire(side.value)
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "" if value is None else str(value)


def _delta(sp: StoredSide | None, rb: StoredSide | None) -> str:
    if sp is None or rb is None:
        return ""
    a, b = sp.value, rb.value
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return str(to_wire(float(a) - float(b)))
    return ""


def _csv_row(v: StoredPV, read_only: bool) -> list[str]:
    sp, rb = v.setpoint, v.readback
    main = sp or rb
    ts = ns_to_datetime(main.timestamp_ns) if main is not None else None
    ns = main.timestamp_ns if main is not None and main.timestamp_ns is not None else None
    timestamp = "" if ts is None or ns is None else ts.strftime("%Y-%m-%d %H:%M:%S.") + f"{ns % 1_000_000_000:09d}"
    vtype = (main.type or "") if main is not None else ""
    severity = main.severity if main is not None else 3
    return [
        v.setpoint_name or v.readback_name or "",
        "1",
        timestamp,
        main.status if main is not None else "UDF",
        _SEVERITY[severity] if 0 <= severity < len(_SEVERITY) else str(severity),
        vtype.replace("[]", "_array").upper(),
        _csv_value(sp),
        v.readback_name or "",
        _csv_value(rb),
        _delta(sp, rb),
        "true" if read_only else "false",
    ]


async def export_csv(ctx: ServiceContext, snapshot_id: UUID) -> bytes:
    _, values = await stored_values(ctx, snapshot_id)
    async with connection(ctx.pool) as conn:
        registry = await snap_db.tolerances(conn, [v.pv_id for v in values])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in values:
        writer.writerow(_csv_row(v, registry.get(v.pv_id, (0.0, 0.0, False))[2]))
    return out.getvalue().encode()


async def import_json(ctx: ServiceContext, raw: bytes, actor: Principal) -> SnapshotSummaryDTO:
    """Create a new snapshot (source `import`) from an exported JSON document."""
    try:
        doc = msgspec.json.decode(raw, type=ExportDocument)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"not a snapshot export: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ValidationError(f"the body is not valid JSON: {exc}") from None
    if doc.format != FORMAT:
        raise ValidationError(f"format must be {FORMAT!r}, got {doc.format!r}")
    seen: set[UUID] = set()
    for value in doc.values:
        if value.pv_id in seen:
            raise ValidationError(f"values: PV id {value.pv_id} appears twice")
        seen.add(value.pv_id)
        if not (value.setpoint_name or value.readback_name):
            raise ValidationError(f"values: PV {value.pv_id} has neither setpointName nor readbackName")
    body = NewSnapshotBody(
        title=doc.snapshot.title, description=doc.snapshot.description, comment=doc.snapshot.comment,
        labels=doc.snapshot.labels,
    )  # fmt: skip
    spec = snap_service.spec_from_body(body, True, actor)
    ordered = sorted(doc.values, key=lambda v: (v.setpoint_name or v.readback_name or "", v.pv_id))
    rows: list[snap_db.StoreRow] = []
    for v in ordered:
        (sp, sp_val), (rb, rb_val) = _side_in(v.setpoint), _side_in(v.readback)
        rows.append((v.pv_id.bytes, v.setpoint_name, v.readback_name, sp, rb, sp_val, rb_val))
    return snap_service.summary(await snap_service.store_rows(ctx, spec, rows, actor, "import"))
