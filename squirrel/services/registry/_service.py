"""RegistryService: the PV registry's operations (get, page, search, create, import, update, delete, export)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import msgspec

from squirrel import addresses
from squirrel.db import pvs as pvs_db
from squirrel.db import tags as tags_db
from squirrel.db.pool import connection
from squirrel.db.rows import Page
from squirrel.errors import NotFoundError
from squirrel.live.entries import NOT_MONITORED, to_entry
from squirrel.model import (
    DeletedDTO,
    NewPVElementDTO,
    Principal,
    PVElementDTO,
    PVImportResult,
    PVPage,
    PVSearchResult,
    UpdatePVElementDTO,
)
from squirrel.services import _csvio as csvio
from squirrel.services import audit
from squirrel.services.context import ServiceContext
from squirrel.services.live import cache_status
from squirrel.services.registry._bulk import check_free, check_tags, insert_many
from squirrel.services.registry._read import (
    like_pattern,
    page_token,
    parse_tag_filters,
    parse_token,
    row_to_dto,
)
from squirrel.services.registry._validation import STORED, address_keys, clean_new
from squirrel.services.tags import ensure_tags

NOT_MONITORED_ENTRY = {"connected": False, "error": NOT_MONITORED}


class RegistryService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.default: addresses.Protocol = ctx.settings.default_protocol

    async def get(self, pv_id: UUID) -> PVElementDTO:
        async with connection(self.ctx.pool) as conn:
            rows = await pvs_db.by_ids(conn, [pv_id])
        if not rows:
            raise NotFoundError(f"PV {pv_id} not found")
        return row_to_dto(rows[0])

    async def page(self, pv_name: str | None, page_size: int, token: str | None, tag_filters: str | None) -> PVPage:
        after, filters, pattern = parse_token(token), parse_tag_filters(tag_filters), like_pattern(pv_name)
        async with connection(self.ctx.pool) as conn:
            keys = await pvs_db.page_ids(conn, pattern, filters, after, page_size + 1)
            total = await pvs_db.count_page(conn, pattern, filters)
            rows = await pvs_db.by_ids(conn, [k["id"] for k in keys[:page_size]])
        more = len(keys) > page_size
        last = keys[page_size - 1] if more else None
        return PVPage(
            results=[row_to_dto(r) for r in rows],
            continuation_token=page_token(last["sort_name"], last["id"]) if last else None,
            total_count=total,
        )

    async def search(
        self, q: str | None, devices: list[str], tags: list[UUID], limit: int, offset: int, live: bool
    ) -> PVSearchResult:
        async with connection(self.ctx.pool) as conn:
            page = Page(limit, offset)
            ids, total = await pvs_db.search_ids(conn, like_pattern(q), devices or None, tags or None, page)
            rows = await pvs_db.by_ids(conn, ids)
        result = PVSearchResult(results=[row_to_dto(r) for r in rows], total_count=total, limit=limit, offset=offset)
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
            merged = NewPVElementDTO(**{k: v for k, v in current.items() if k != "id" and not k.endswith(STORED)})
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
                await check_free(conn, [values["setpoint_address"]], pv_id)
            await pvs_db.update(conn, pv_id, values, actor.name)
            if "tags" in changes:
                await check_tags(conn, set(tag_ids))
                await pvs_db.replace_tags(conn, pv_id, tag_ids)
            await audit.record(conn, actor, "pv.update", "pv", pv_id, ", ".join(sorted(changes)) or "no change")
            await pvs_db.notify_registry(conn)
            rows = await pvs_db.by_ids(conn, [pv_id])
        return row_to_dto(rows[0])

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
