"""All-or-nothing creates: every item checked while one binary COPY per table streams it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from squirrel import addresses
from squirrel.db import pvs as pvs_db
from squirrel.db.rows import Conn
from squirrel.errors import ConflictError, ValidationError
from squirrel.model import NewPVElementDTO, Principal, PVElementDTO, TagRef
from squirrel.services.registry._read import tag_ref
from squirrel.services.registry._validation import address_keys, clean_new


async def check_tags(conn: Conn, tag_ids: set[UUID]) -> dict[UUID, TagRef]:
    found = await pvs_db.tags_by_ids(conn, list(tag_ids))
    unknown = sorted(str(t) for t in tag_ids - found.keys())
    if unknown:
        raise ValidationError(f"unknown tag id(s): {', '.join(unknown[:20])}", unknownTagIds=unknown[:100])
    return {tid: tag_ref(row) for tid, row in found.items()}


async def check_free(conn: Conn, setpoints: list[str], except_id: UUID | None = None) -> None:
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
    conn: Conn,
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
            fields = msgspec.structs.asdict(i)  # the item as cleaned, every field the answer shares with it
            fields["tags"] = []  # tag ids become TagRefs once every id is checked (below)
            dto = PVElementDTO(
                id=pid, created_date=now, last_modified_date=now, created_by=by, last_modified_by=by, **fields
            )
            created.append(dto)
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
    tag_refs = await check_tags(conn, {t for item in items for t in item.tags})
    links: list[tuple[UUID, UUID]] = []
    for dto, i in zip(created, items, strict=True):
        if i.tags:
            dto.tags = [tag_refs[t] for t in i.tags]
            links.extend((dto.id, t) for t in i.tags)
    await pvs_db.copy_pv_tags(conn, links)
    await pvs_db.notify_registry(conn)
    return created  # fmt: skip
