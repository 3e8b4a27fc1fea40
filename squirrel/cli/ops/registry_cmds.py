"""squirrel pvs list | search | import | export, and squirrel tags list."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from squirrel.cli.ops import tagnames
from squirrel.cli.ops.common import OK, Ops, UsageError, leaf
from squirrel.cli.ops.render import table
from squirrel.model import PVElementDTO


def _pv_table(ops: Ops, pvs: list[PVElementDTO], total: int) -> None:
    t = table("setpoint", "readback", "device", "tags", "description")
    for pv in pvs:
        tags = ", ".join(f"{tag.group_name}={tag.name}" for tag in pv.tags)
        t.add_row(pv.setpoint_address or "", pv.readback_address or "", pv.device or "", tags, pv.description or "")
    ops.out.print(t)
    ops.note(f"{len(pvs):,} of {total:,} PVs shown")


def cmd_list(ops: Ops) -> int:
    a = ops.args
    tags = tagnames.resolve(ops.client, a.tag)
    filters: dict[str, list[str]] = defaultdict(list)
    for tag in tags:
        filters[str(tag.group_id)].append(str(tag.id))
    pvs: list[PVElementDTO] = []
    token: str | None = None
    total = 0
    while len(pvs) < a.limit:
        page = ops.client.page_pvs(a.name, min(1000, a.limit - len(pvs)), token, dict(filters) or None)
        pvs += page.results
        total, token = page.total_count, page.continuation_token
        if not token or not page.results:
            break
    ops.emit({"results": pvs, "totalCount": total}, lambda: _pv_table(ops, pvs, total))
    return OK


def cmd_search(ops: Ops) -> int:
    a = ops.args
    tags = tagnames.resolve(ops.client, a.tag)
    found = ops.client.search_pvs(a.text, a.device or None, [t.id for t in tags] or None, a.limit)
    ops.emit(found, lambda: _pv_table(ops, found.results, found.total_count))
    return OK


def cmd_import(ops: Ops) -> int:
    path = Path(ops.args.file)
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    result = ops.client.import_pvs(data)

    def render() -> None:
        t = table("created PVs", "groups created", "tags created")
        t.add_row(f"{result.created_count:,}", f"{result.groups_created:,}", f"{result.tags_created:,}")
        ops.out.print(t)

    ops.emit(result, render)
    return OK


def cmd_export(ops: Ops) -> int:
    a = ops.args
    ops.save(ops.client.export_pvs(a.format), a.output)
    return OK


def cmd_tags(ops: Ops) -> int:
    groups = [ops.client.tag_group(g.id) for g in ops.client.tag_groups()]

    def render() -> None:
        t = table("group", "tag", "use on the CLI", "description")
        for g in groups:
            for tag in g.tags:
                t.add_row(g.name, tag.name, f"--tag {g.name}={tag.name}", tag.description or "")
            if not g.tags:
                t.add_row(g.name, "", "", g.description or "")
        ops.out.print(t)

    ops.emit(groups, render)
    return OK


def register_pvs(sub: Any) -> None:
    p = leaf(sub, "list", cmd_list, "PVs ordered by setpoint address")
    p.add_argument("name", nargs="?", help="only addresses containing this text")
    p.add_argument("--tag", action="append", metavar="NAME", help="Group=Tag or Tag; OR in a group, AND across groups")
    p.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")

    p = leaf(sub, "search", cmd_search, "search addresses and descriptions")
    p.add_argument("text")
    p.add_argument("--tag", action="append", metavar="NAME", help="Group=Tag or Tag (any of them)")
    p.add_argument("--device", action="append", help="only this device (repeatable)")
    p.add_argument("--limit", type=int, default=100)

    p = leaf(sub, "import", cmd_import, "register PVs from a CSV (Setpoint, Readback, Device, Description, tag groups)")
    p.add_argument("file", help="CSV file, or - for stdin")

    p = leaf(sub, "export", cmd_export, "the whole registry in the import format", json_flag=False)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", help="file to write (default stdout)")


def register_tags(sub: Any) -> None:
    leaf(sub, "list", cmd_tags, "tag groups and their tags")
