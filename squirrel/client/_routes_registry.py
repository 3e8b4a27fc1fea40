"""Operations on the PV registry, live values and tags (/v1/pvs, /v1/tags)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from squirrel.client._calls import Call, Id, as_json, as_text, file_call, json_call, operation, query, seg
from squirrel.model import (
    AddTagResult,
    BulkTagsBody,
    BulkTagsResult,
    DeletedDTO,
    NameDescriptionBody,
    NameDescriptionPatch,
    NewPVElementDTO,
    PVElementDTO,
    PVImportResult,
    PVPage,
    PVSearchResult,
    TagGroupDeleted,
    TagGroupDTO,
    TagGroupSummaryDTO,
    UpdatePVElementDTO,
)

if TYPE_CHECKING:
    from squirrel.model import CacheStatus


def _first_group(body: bytes) -> TagGroupDTO:
    # GET /v1/tags/{id} answers a one-element array (old dialect).
    return msgspec.json.decode(body, type=list[TagGroupDTO])[0]


class RegistryRoutes:
    # --- PVs ---
    @operation
    def list_pvs(self, pv_name: str | None = None) -> Call[list[PVElementDTO]]:
        """The first 1000 PVs whose address contains `pv_name`."""
        return Call("GET", "/v1/pvs", as_json(list[PVElementDTO]), query(pvName=pv_name))

    @operation
    def page_pvs(
        self,
        pv_name: str | None = None,
        page_size: int | None = None,
        continuation_token: str | None = None,
        tag_filters: dict[str, list[str]] | None = None,
    ) -> Call[PVPage]:
        """One keyset page; tag_filters = {groupId: [tagId, ...]} (OR in a group, AND across groups)."""
        filters = msgspec.json.encode(tag_filters).decode() if tag_filters else None
        params = query(pvName=pv_name, pageSize=page_size, continuationToken=continuation_token, tagFilters=filters)
        return Call("GET", "/v1/pvs/paged", as_json(PVPage), params)

    @operation
    def search_pvs(
        self,
        q: str | None = None,
        devices: list[str] | None = None,
        tags: list[Id] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        include_live_values: bool | None = None,
    ) -> Call[PVSearchResult]:
        """Text (literal substring), devices and tag ids (OR lists)."""
        params = query(
            q=q, devices=devices, tags=tags, limit=limit, offset=offset, include_live_values=include_live_values
        )
        return Call("GET", "/v1/pvs/search", as_json(PVSearchResult), params)

    @operation
    def devices(self) -> Call[list[str]]:
        return Call("GET", "/v1/pvs/devices", as_json(list[str]))

    @operation
    def get_pv(self, pv_id: Id) -> Call[PVElementDTO]:
        return Call("GET", f"/v1/pvs/{seg(pv_id)}", as_json(PVElementDTO))

    @operation
    def export_pvs(self, fmt: str = "json") -> Call[str]:
        """The whole registry as text in the import format (`json` or `csv`)."""
        return Call("GET", "/v1/pvs/export", as_text, query(format=fmt))

    @operation
    def create_pv(self, pv: NewPVElementDTO) -> Call[PVElementDTO]:
        return json_call("POST", "/v1/pvs", as_json(PVElementDTO), pv)

    @operation
    def create_pvs(self, pvs: list[NewPVElementDTO]) -> Call[list[PVElementDTO]]:
        """All or nothing."""
        return json_call("POST", "/v1/pvs/multi", as_json(list[PVElementDTO]), pvs)

    @operation
    def import_pvs(self, csv: str | bytes) -> Call[PVImportResult]:
        """A CSV (Setpoint, Readback, Device, Description, one column per tag group), all or nothing."""
        return file_call("/v1/pvs/import", as_json(PVImportResult), csv, "text/csv")

    @operation
    def update_pv(self, pv_id: Id, patch: UpdatePVElementDTO) -> Call[PVElementDTO]:
        return json_call("PUT", f"/v1/pvs/{seg(pv_id)}", as_json(PVElementDTO), patch)

    @operation
    def delete_pv(self, pv_id: Id) -> Call[DeletedDTO]:
        return Call("DELETE", f"/v1/pvs/{seg(pv_id)}", as_json(DeletedDTO))

    # --- live values ---
    @operation
    def live_values(self, addresses: list[str]) -> Call[dict[str, Any]]:
        """Live entries (snake_case, as the server sends them) by address."""
        return json_call("POST", "/v1/pvs/live", as_json(dict[str, Any]), {"pv_names": addresses})

    @operation
    def live_all(self) -> Call[dict[str, Any]]:
        """The whole live cache: {values, count}."""
        return Call("GET", "/v1/pvs/live/all", as_json(dict[str, Any]))

    @operation
    def cache_status(self) -> Call[CacheStatus]:
        from squirrel.model import CacheStatus

        return Call("GET", "/v1/pvs/cache/status", as_json(CacheStatus))

    # --- tags ---
    @operation
    def tag_groups(self) -> Call[list[TagGroupSummaryDTO]]:
        return Call("GET", "/v1/tags", as_json(list[TagGroupSummaryDTO]))

    @operation
    def tag_group(self, group_id: Id) -> Call[TagGroupDTO]:
        return Call("GET", f"/v1/tags/{seg(group_id)}", _first_group)

    @operation
    def create_tag_group(self, name: str, description: str | None = None) -> Call[TagGroupDTO]:
        body = NameDescriptionBody(name=name, description=description)
        return json_call("POST", "/v1/tags", as_json(TagGroupDTO), body)

    @operation
    def bulk_tags(self, groups: dict[str, list[str]]) -> Call[BulkTagsResult]:
        """Get-or-create groups and tags by name."""
        return json_call("POST", "/v1/tags/bulk", as_json(BulkTagsResult), BulkTagsBody(groups=groups))

    @operation
    def update_tag_group(self, group_id: Id, patch: NameDescriptionPatch) -> Call[TagGroupDTO]:
        return json_call("PUT", f"/v1/tags/{seg(group_id)}", as_json(TagGroupDTO), patch)

    @operation
    def delete_tag_group(self, group_id: Id) -> Call[TagGroupDeleted]:
        return Call("DELETE", f"/v1/tags/{seg(group_id)}", as_json(TagGroupDeleted))

    @operation
    def add_tag(
        self, group_id: Id, name: str, description: str | None = None, skip_duplicates: bool | None = None
    ) -> Call[AddTagResult]:
        path = f"/v1/tags/{seg(group_id)}/tags"
        body = NameDescriptionBody(name=name, description=description)
        return json_call("POST", path, as_json(AddTagResult), body, query(skip_duplicates=skip_duplicates))

    @operation
    def update_tag(self, group_id: Id, tag_id: Id, patch: NameDescriptionPatch) -> Call[TagGroupDTO]:
        return json_call("PUT", f"/v1/tags/{seg(group_id)}/tags/{seg(tag_id)}", as_json(TagGroupDTO), patch)

    @operation
    def delete_tag(self, group_id: Id, tag_id: Id) -> Call[TagGroupDTO]:
        return Call("DELETE", f"/v1/tags/{seg(group_id)}/tags/{seg(tag_id)}", as_json(TagGroupDTO))
