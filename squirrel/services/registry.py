"""The PV registry: validation, all-or-nothing bulk creates (binary COPY), paging, search, export."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import AsyncConnection

from squirrel import addresses
from squirrel.db import pvs as pvs_db
from squirrel.db import tags as tags_db
from squirrel.db.pool import connection
from squirrel.errors import ConflictError, NotFoundError, ValidationError
from squirrel.live.entries import NOT_MONITORED, to_entry
from squirrel.model import (
    DeletedDTO,
    NewPVElementDTO,
    Principal,
    PVElementDTO,
    PVImportResult,
    PVPage,
    PVSearchResult,
    TagRef,
    UpdatePVElementDTO,
)
from squirrel.services import audit, csvio
from squirrel.services.context import ServiceContext
from squirrel.services.live import cache_status
from squirrel.services.tags import check_description, ensure_tags

MAX_ADDRESS = 255
NOT_MONITORED_ENTRY = {"connected": False, "error": NOT_MONITORED}


def like_pattern(text: str | None) -> str | None:
    """An ILIKE pattern matching `text` literally as a substring (%, _ and \\ escaped)."""
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def clean_address(value: str | None, where: str, field: str) -> str | None:
    """Trimmed address; field names are built only on error (this runs 150K times on a 50K multi)."""
    if value is None:
        return None
    address = value.strip()
    if not address:
        raise ValidationError(f"{where}{field} must not be empty or whitespace")
    if len(address) > MAX_ADDRESS:
        raise ValidationError(f"{where}{field} must be at most {MAX_ADDRESS} characters, got {len(address)}")
    if "\x00" in address:
        raise ValidationError(f"{where}{field} must not contain NUL characters")
    return address


def address_keys(
    item: NewPVElementDTO, default: addresses.Protocol, where: str = ""
) -> tuple[str | None, str | None, str | None, str | None, str | None, str | None]:
    """(setpoint, readback, config keys, then each address as written when it differs from its key).

    A bare name takes `default`; a pva:// address needs the optional p4p package (400 otherwise)."""
    keys: list[str | None] = []
    written: list[str | None] = []
    for field, address in (
        ("setpointAddress", item.setpoint_address),
        ("readbackAddress", item.readback_address),
        ("configAddress", item.config_address),
    ):
        if address is None:
            keys.append(None)
            written.append(None)
            continue
        try:
            key = addresses.channel_key(address, default)
        except addresses.AddressError as exc:
            raise ValidationError(f"{where}{field}: {exc}") from None
        if len(key) > MAX_ADDRESS:
            raise ValidationError(f"{where}{field} must be at most {MAX_ADDRESS} characters with its protocol prefix")
        if field != "configAddress" and addresses.protocol_of(key) == "pva" and not _PVA_AVAILABLE():
            raise ValidationError(f"{where}{field} {address!r} is a PVAccess address: {addresses.PVA_MISSING}")
        keys.append(key)
        written.append(None if key == address else address)
    return keys[0], keys[1], keys[2], written[0], written[1], written[2]


_PVA_AVAILABLE = addresses.pva_available
_STORED = ("_key", "_written")  # the stored form of the addresses in select_pv_for_update, not DTO fields


def clean_new(item: NewPVElementDTO, where: str = "") -> NewPVElementDTO:
    """Trim and check `item` in place; `where` prefixes field names in messages (e.g. "[12].")."""
    item.setpoint_address = clean_address(item.setpoint_address, where, "setpointAddress")
    item.readback_address = clean_address(item.readback_address, where, "readbackAddress")
    item.config_address = clean_address(item.config_address, where, "configAddress")
    if item.setpoint_address is None and item.readback_address is None and item.config_address is None:
        raise ValidationError(f"{where}at least one of setpointAddress, readbackAddress, configAddress is required")
    if item.device is not None:
        item.device = item.device.strip() or None
        if item.device and (len(item.device) > MAX_ADDRESS or "\x00" in item.device):
            raise ValidationError(f"{where}device must be at most {MAX_ADDRESS} characters, without NUL characters")
    if item.description is not None:
        check_description(item.description, f"{where}description")
    if not (item.abs_tolerance >= 0 and item.rel_tolerance >= 0):  # also false for NaN
        raise ValidationError(f"{where}absTolerance and relTolerance must be numbers >= 0")
    if len(item.tags) > 1:
        item.tags = list(dict.fromkeys(item.tags))
    return item


def _tag_ref(row: dict[str, Any]) -> TagRef:
    return TagRef(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        group_id=row["group_id"],
        group_name=row["group_name"],
    )


def _dto(row: dict[str, Any]) -> PVElementDTO:
    return PVElementDTO(
        id=row["id"],
        setpoint_address=row["setpoint_address"],
        readback_address=row["readback_address"],
        config_address=row["config_address"],
        device=row["device"],
        description=row["description"],
        abs_tolerance=row["abs_tolerance"],
        rel_tolerance=row["rel_tolerance"],
        read_only=row["read_only"],
        restore_order=row["restore_order"],
        put_completion=row["put_completion"],
        tags=msgspec.convert(row["tags"], list[TagRef]),
        created_date=row["created_at"],
        last_modified_date=row["updated_at"],
        created_by=row["created_by"],
        last_modified_by=row["updated_by"],
    )


async def _check_tags(conn: AsyncConnection[Any], tag_ids: set[UUID]) -> dict[UUID, TagRef]:
    found = await pvs_db.tags_by_ids(conn, list(tag_ids))
    unknown = sorted(str(t) for t in tag_ids - found.keys())
    if unknown:
        raise ValidationError(f"unknown tag id(s): {', '.join(unknown[:20])}", unknownTagIds=unknown[:100])
    return {tid: _tag_ref(row) for tid, row in found.items()}


async def _check_free(conn: AsyncConnection[Any], setpoints: list[str], except_id: UUID | None = None) -> None:
    taken = await pvs_db.existing_setpoints(conn, setpoints, except_id)
    if taken:
        more = f" (and {len(taken) - 10} more)" if len(taken) > 10 else ""
        raise ConflictError(
            f"a PV with setpoint address {', '.join(map(repr, taken[:10]))}{more} already exists",
            existingAddresses=taken[:100],
        )


def _duplicate(address: str, first: str, second: str) -> ValidationError:
    return ValidationError(f"duplicate setpointAddress {address!r} in this request (at {first} and {second})")


async def insert_many(
    conn: AsyncConnection[Any],
    actor: Principal,
    items: list[NewPVElementDTO],
    label: Callable[[int], str],
    default: addresses.Protocol = "ca",
) -> list[PVElementDTO]:
    """Check and insert `items` in the caller's transaction with one binary COPY per table.

    Each item is checked (clean_new), given its uuid4 and its answer while COPY streams, so the Python
    work overlaps the server's index maintenance; any failure raises and the caller's transaction rolls
    back. A setpoint address that is already live fails the COPY on the unique index (409).
    """
    now: datetime = await pvs_db.now(conn)
    by = actor.name
    created: list[PVElementDTO] = []
    seen: dict[str, int] = {}

    def rows() -> Iterator[tuple[Any, ...]]:
        for index, i in enumerate(items):
            clean_new(i, label(index))
            sp_key, rb_key, cfg_key, sp_written, rb_written, cfg_written = address_keys(i, default, label(index))
            if sp_key is not None:
                first = seen.setdefault(sp_key, index)
                if first != index:
                    raise _duplicate(sp_key, label(first).rstrip(": ."), label(index).rstrip(": ."))
            pid = uuid.uuid4()
            created.append(
                PVElementDTO(
                    id=pid,
                    setpoint_address=i.setpoint_address,
                    readback_address=i.readback_address,
                    config_address=i.config_address,
                    device=i.device,
                    description=i.description,
                    abs_tolerance=i.abs_tolerance,
                    rel_tolerance=i.rel_tolerance,
                    read_only=i.read_only,
                    restore_order=i.restore_order,
                    put_completion=i.put_completion,
                    tags=[],
                    created_date=now,
                    last_modified_date=now,
                    created_by=by,
                    last_modified_by=by,
                )
            )
            yield (
                pid,
                sp_key,
                rb_key,
                cfg_key,
                i.device,
                i.description,
                i.abs_tolerance,
                i.rel_tolerance,
                i.read_only,
                i.restore_order,
                i.put_completion,
                now,
                now,
                by,
                by,
                sp_written,
                rb_written,
                cfg_written,
            )

    await pvs_db.copy_pvs(conn, rows())
    tag_refs = await _check_tags(conn, {t for item in items for t in item.tags})
    links: list[tuple[UUID, UUID]] = []
    for dto, i in zip(created, items, strict=True):
        if i.tags:
            dto.tags = [tag_refs[t] for t in i.tags]
            links.extend((dto.id, t) for t in i.tags)
    await pvs_db.copy_pv_tags(conn, links)
    await pvs_db.notify_registry(conn)
    return created  # fmt: skip


def _token(sort_name: str, pv_id: UUID) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode([sort_name, str(pv_id)])).decode().rstrip("=")


def parse_token(token: str | None) -> tuple[str, UUID] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        name, pv_id = msgspec.json.decode(raw, type=tuple[str, UUID])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ValidationError("continuationToken is invalid: pass back the token of the previous page") from None
    return name, pv_id


def parse_tag_filters(raw: str | None) -> dict[str, list[str]] | None:
    """{groupId: [tagId..]} from JSON; empty groups impose nothing."""
    if not raw:
        return None
    try:
        decoded = msgspec.json.decode(raw, type=dict[UUID, list[UUID]])
    except msgspec.DecodeError as exc:
        raise ValidationError(f"tagFilters must be a JSON object {{groupId: [tagId, ...]}} of UUIDs: {exc}") from None
    filters = {str(g): [str(t) for t in tags] for g, tags in decoded.items() if tags}
    return filters or None


class RegistryService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.default: addresses.Protocol = ctx.settings.default_protocol

    async def get(self, pv_id: UUID) -> PVElementDTO:
        async with connection(self.ctx.pool) as conn:
            rows = await pvs_db.by_ids(conn, [pv_id])
        if not rows:
            raise NotFoundError(f"PV {pv_id} not found")
        return _dto(rows[0])

    async def page(self, pv_name: str | None, page_size: int, token: str | None, tag_filters: str | None) -> PVPage:
        after, filters, pattern = parse_token(token), parse_tag_filters(tag_filters), like_pattern(pv_name)
        async with connection(self.ctx.pool) as conn:
            keys = await pvs_db.page_ids(conn, pattern, filters, after, page_size + 1)
            total = await pvs_db.count_page(conn, pattern, filters)
            rows = await pvs_db.by_ids(conn, [k["id"] for k in keys[:page_size]])
        more = len(keys) > page_size
        last = keys[page_size - 1] if more else None
        return PVPage(
            results=[_dto(r) for r in rows],
            continuation_token=_token(last["sort_name"], last["id"]) if last else None,
            total_count=total,
        )

    async def search(
        self, q: str | None, devices: list[str], tags: list[UUID], limit: int, offset: int, live: bool
    ) -> PVSearchResult:
        async with connection(self.ctx.pool) as conn:
            ids, total = await pvs_db.search_ids(conn, like_pattern(q), devices or None, tags or None, limit, offset)
            rows = await pvs_db.by_ids(conn, ids)
        result = PVSearchResult(results=[_dto(r) for r in rows], total_count=total, limit=limit, offset=offset)
        if live:
            # Keyed by the address as written; looked up by its channel key.
            pairs = [
                (p[f"{side}_address"], p[f"{side}_key"])
                for p in rows
                for side in ("setpoint", "readback")
                if p[f"{side}_address"]
            ]
            cache = self.ctx.cache
            result.live_values = {
                a: NOT_MONITORED_ENTRY if (state := cache.get(k)) is None else to_entry(state) for a, k in pairs
            }
            # Whatever the cache holds is returned; the error says when no monitor keeps it current.
            result.live_values_error = cache_status(self.ctx)["error"]
        return result

    async def devices(self) -> list[str]:
        async with connection(self.ctx.pool) as conn:
            return await pvs_db.devices(conn)

    async def create(self, actor: Principal, item: NewPVElementDTO) -> PVElementDTO:
        async with connection(self.ctx.pool) as conn:
            (created,) = await insert_many(conn, actor, [item], lambda _: "", self.default)
            name = item.setpoint_address or item.readback_address or item.config_address
            await audit.record(conn, actor, "pv.create", "pv", created.id, str(name))
        return created

    async def create_many(self, actor: Principal, items: list[NewPVElementDTO]) -> list[PVElementDTO]:
        if not items:
            return []
        async with connection(self.ctx.pool) as conn:
            created = await insert_many(conn, actor, items, lambda i: f"[{i}].", self.default)
            await audit.record(conn, actor, "pv.create_many", "pv", None, f"{len(created)} PVs")
        return created

    async def import_csv(self, actor: Principal, data: bytes) -> PVImportResult:
        rows = csvio.parse(csvio.decode(data))
        labels = [f"line {r.line}" for r in rows]
        # Checked row by row while COPY streams (insert_many); a failure rolls back the tags created too.
        items = [
            NewPVElementDTO(
                setpoint_address=r.setpoint, readback_address=r.readback, device=r.device, description=r.description
            )
            for r in rows
        ]
        wanted: dict[str, list[str]] = {}
        for r in rows:
            for group, names in r.tags.items():
                wanted.setdefault(group, []).extend(names)
        async with connection(self.ctx.pool) as conn:
            ensured = await ensure_tags(conn, wanted)
            for item, r in zip(items, rows, strict=True):
                item.tags = list(
                    dict.fromkeys(ensured.ids[(g.lower(), t.lower())] for g, ts in r.tags.items() for t in ts)
                )
            created = (
                await insert_many(conn, actor, items, lambda i: f"CSV {labels[i]}: ", self.default) if items else []
            )
            summary = f"{len(created)} PVs, {ensured.groups_created} groups, {ensured.tags_created} tags created"
            await audit.record(conn, actor, "pv.import", "pv", None, summary)
        return PVImportResult(
            created_count=len(created),
            groups_created=ensured.groups_created,
            tags_created=ensured.tags_created,
            ids=[p.id for p in created],
        )

    async def update(self, actor: Principal, pv_id: UUID, patch: UpdatePVElementDTO) -> PVElementDTO:
        changes = {f: v for f in patch.__struct_fields__ if (v := getattr(patch, f)) is not msgspec.UNSET}
        async with connection(self.ctx.pool) as conn:
            current = await pvs_db.for_update(conn, pv_id)
            if current is None:
                raise NotFoundError(f"PV {pv_id} not found")
            merged = NewPVElementDTO(**{k: v for k, v in current.items() if k != "id" and not k.endswith(_STORED)})
            merged = clean_new(msgspec.structs.replace(merged, **changes))
            values = msgspec.structs.asdict(merged)
            tag_ids: list[UUID] = values.pop("tags")
            # An unchanged address keeps its stored key even if the default protocol changed since.
            (
                values["setpoint_address"], values["readback_address"], values["config_address"],
                values["setpoint_written"], values["readback_written"], values["config_written"],
            ) = address_keys(merged, self.default)  # fmt: skip
            for field in ("setpoint", "readback", "config"):
                if getattr(merged, f"{field}_address") == current[f"{field}_address"]:
                    values[f"{field}_address"] = current[f"{field}_key"]
                    values[f"{field}_written"] = current[f"{field}_written"]
            if values["setpoint_address"] and values["setpoint_address"] != current["setpoint_key"]:
                await _check_free(conn, [values["setpoint_address"]], pv_id)
            await pvs_db.update(conn, pv_id, values, actor.name)
            if "tags" in changes:
                await _check_tags(conn, set(tag_ids))
                await pvs_db.replace_tags(conn, pv_id, tag_ids)
            await audit.record(conn, actor, "pv.update", "pv", pv_id, ", ".join(sorted(changes)) or "no change")
            await pvs_db.notify_registry(conn)
            rows = await pvs_db.by_ids(conn, [pv_id])
        return _dto(rows[0])

    async def delete(self, actor: Principal, pv_id: UUID) -> DeletedDTO:
        async with connection(self.ctx.pool) as conn:
            row = await pvs_db.soft_delete(conn, pv_id, actor.name)
            if row is None:
                raise NotFoundError(f"PV {pv_id} not found")
            await audit.record(conn, actor, "pv.delete", "pv", pv_id, str(row["name"]))
            await pvs_db.notify_registry(conn)
        return DeletedDTO(id=pv_id)

    async def export(self, fmt: str) -> list[NewPVElementDTO] | str:
        """The registry as /v1/pvs/multi items (fmt "json") or as the import CSV (fmt "csv")."""
        async with connection(self.ctx.pool) as conn:
            rows = await pvs_db.export_rows(conn)
            tag_rows = await tags_db.all_tags(conn) if fmt == "csv" else []
        items = [NewPVElementDTO(**{k: v for k, v in r.items() if k != "tag_ids"}, tags=r["tag_ids"]) for r in rows]
        if fmt != "csv":
            return items
        tag_names = {t["id"]: (t["group_name"], t["name"]) for t in tag_rows}
        groups = list(dict.fromkeys(g for g, _ in tag_names.values()))

        def csv_rows() -> Iterator[tuple[list[str | None], dict[str, list[str]]]]:
            for item in items:
                tags: dict[str, list[str]] = {}
                for tid in item.tags:
                    group, name = tag_names[tid]
                    tags.setdefault(group, []).append(name)
                yield [item.setpoint_address, item.readback_address, item.device, item.description], tags

        return csvio.format_csv(groups, csv_rows())
