"""squirrel snapshot take | list | show | export | import | label."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from squirrel.cli.ops import tagnames
from squirrel.cli.ops.common import INCOMPLETE, OK, Ops, UsageError, leaf
from squirrel.cli.ops.progress import follow
from squirrel.cli.ops.render import missing_sides, side_text, table, when
from squirrel.client import Client, NewSnapshotBody, Snapshot, SnapshotSummary, UpdateSnapshotBody


def snapshot_ref(client: Client, ref: str) -> UUID:
    """A snapshot id, or `golden`: the newest snapshot labelled golden."""
    if ref.lower() == "golden":
        found = client.list_snapshots(labels=["golden"], limit=1)
        if not found:
            raise UsageError("no snapshot is labelled golden")
        return found[0].id
    try:
        return UUID(ref)
    except ValueError:
        raise UsageError(f"not a snapshot id: {ref!r} (give a UUID or 'golden')") from None


def missing_rows(snap: Snapshot) -> list[dict[str, Any]]:
    return [
        {"pvId": str(pv.pv_id), "pvName": pv.pv_name, "missing": why}
        for pv in snap.pv_values
        if (why := missing_sides(pv))
    ]


def missing_count(summary: SnapshotSummary | Snapshot, rows: list[dict[str, Any]] | None = None) -> int:
    """The server's missingCount when it sends one, else the count of rows found missing here."""
    if summary.missing_count is not None:
        return summary.missing_count
    return len(rows) if rows is not None else 0


def _summary_table(ops: Ops, s: SnapshotSummary | Snapshot, missing: int | None) -> None:
    t = table("field", "value")
    t.add_row("id", str(s.id))
    t.add_row("title", s.title)
    t.add_row("created", f"{when(s.created_date)} by {s.created_by}")
    t.add_row("source", s.source)
    t.add_row("labels", ", ".join(s.labels))
    t.add_row("PVs", f"{s.pv_count:,}")
    if missing is not None:
        detail = ""
        if s.missing is not None:
            detail = f" ({s.missing.disconnected:,} disconnected, {s.missing.no_value:,} no value)"
        t.add_row("missing", f"{missing:,}{detail}")
    ops.out.print(t)


def _missing_table(ops: Ops, rows: list[dict[str, Any]]) -> None:
    if rows:
        t = table("PV", "missing", title=f"PVs without a value: {len(rows):,}")
        for row in rows:
            t.add_row(row["pvName"], ", ".join(row["missing"]))
        ops.out.print(t)


def cmd_take(ops: Ops) -> int:
    a = ops.args
    client = ops.client
    tags = tagnames.resolve(client, a.tag)
    title = a.title or f"CLI snapshot {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    body = NewSnapshotBody(title=title, description=a.description, tags=[t.id for t in tags] or None)
    queued = client.create_snapshot(body, use_cache=not a.direct, require_complete=True if a.require_complete else None)
    ops.note(f"snapshot job {queued.job_id} queued")
    try:
        job = follow(ops, queued.job_id, "snapshot")
    except KeyboardInterrupt:
        ops.note(f"\nthe snapshot job goes on; follow it with: squirrel jobs watch {queued.job_id}")
        raise
    if job.status != "completed" or job.result_id is None:
        ops.emit({"job": job}, lambda: None)
        ops.note(f"snapshot job {job.status}: {job.error or job.message}")
        return INCOMPLETE
    snap = client.get_snapshot(job.result_id, only_missing=True)  # newer servers send only those rows
    rows = missing_rows(snap)
    count = missing_count(snap, rows)
    summary = msgspec_summary(snap, count)

    def render() -> None:
        _summary_table(ops, snap, count)
        _missing_table(ops, rows)

    ops.emit({"job": job, "snapshot": summary, "missing": rows}, render)
    for warning in job.warnings:
        ops.note(f"warning: {warning}")
    if count and a.require_complete:
        ops.note(f"{count:,} PVs have no value; --require-complete makes that a failure")
        return INCOMPLETE
    return OK


def msgspec_summary(snap: Snapshot, missing: int) -> dict[str, Any]:
    """The summary part of a snapshot as JSON members, with missingCount filled in when the server had none."""
    doc: dict[str, Any] = msgspec.to_builtins(snap)
    doc.pop("pvValues", None)
    doc["missingCount"] = missing
    return doc


def cmd_list(ops: Ops) -> int:
    a = ops.args
    labels = [a.label] if a.label else None
    snaps = ops.client.list_snapshots(title=a.title, labels=labels, limit=a.limit)

    def render() -> None:
        t = table("id", "created (UTC)", "title", "labels", "PVs", "missing")
        for s in snaps:
            missing = "" if s.missing_count is None else f"{s.missing_count:,}"
            t.add_row(str(s.id), when(s.created_date), s.title, ", ".join(s.labels), f"{s.pv_count:,}", missing)
        ops.out.print(t)

    ops.emit(snaps, render)
    return OK


def cmd_show(ops: Ops) -> int:
    a = ops.args
    sid = snapshot_ref(ops.client, a.id)
    snap = ops.client.get_snapshot(sid, q=a.search or None, only_missing=True if a.only_missing else None)
    rows = missing_rows(snap)
    if a.only_missing:  # also right against a server that ignores onlyMissing
        keep = {r["pvId"] for r in rows}
        snap.pv_values = [pv for pv in snap.pv_values if str(pv.pv_id) in keep]
    count = missing_count(snap, rows)

    def render() -> None:
        _summary_table(ops, snap, count)
        t = table("PV", "setpoint", "readback", "status", "sev", "timestamp (UTC)")
        for pv in snap.pv_values:
            t.add_row(
                pv.pv_name,
                side_text(pv.setpoint_value),
                side_text(pv.readback_value),
                pv.status,
                str(pv.severity),
                when(pv.timestamp),
            )
        ops.out.print(t)

    ops.emit(snap, render)
    return OK


def cmd_export(ops: Ops) -> int:
    a = ops.args
    ops.save(ops.client.export_snapshot(snapshot_ref(ops.client, a.id), a.format), a.output)
    return OK


def cmd_import(ops: Ops) -> int:
    path = Path(ops.args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    ctype = "text/csv" if path.suffix.lower() == ".csv" else "application/json"
    summary = ops.client.import_snapshot(data, ctype, ops.args.title)
    ops.emit(summary, lambda: _summary_table(ops, summary, summary.missing_count))
    return OK


def cmd_label(ops: Ops) -> int:
    a = ops.args
    sid = snapshot_ref(ops.client, a.id)
    current = ops.client.get_snapshot(sid, limit=1)
    labels = [x for x in current.labels if x not in a.remove]
    labels += [x for x in a.add if x not in labels]
    summary = ops.client.update_snapshot(sid, UpdateSnapshotBody(labels=labels))
    ops.emit(summary, lambda: _summary_table(ops, summary, summary.missing_count))
    return OK


def register(sub: Any) -> None:
    p = leaf(sub, "take", cmd_take, "take a snapshot and follow its job")
    p.add_argument("--title", help="title (default: 'CLI snapshot <time>')")
    p.add_argument("--description")
    p.add_argument(
        "--tag", action="append", metavar="NAME", help="only PVs with this tag (Group=Tag or Tag), repeatable"
    )
    p.add_argument("--direct", action="store_true", help="read the PVs now instead of the monitor cache")
    p.add_argument(
        "--require-complete", action="store_true", help="exit 1 (store nothing, on newer servers) when PVs lack a value"
    )

    p = leaf(sub, "list", cmd_list, "list snapshots, newest first")
    p.add_argument("--label", help="only snapshots with this label (e.g. golden)")
    p.add_argument("--title", help="only titles containing this text")
    p.add_argument("--limit", type=int, default=100)

    p = leaf(sub, "show", cmd_show, "a snapshot with its values (ID or 'golden')")
    p.add_argument("id")
    p.add_argument("--only-missing", action="store_true", help="only PVs saved without a value")
    p.add_argument("--search", help="only PVs whose address contains this text")

    p = leaf(sub, "export", cmd_export, "write a snapshot file (json, or csv in Phoebus columns)", json_flag=False)
    p.add_argument("id")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("-o", "--output", help="file to write (default stdout)")

    p = leaf(sub, "import", cmd_import, "import a snapshot file written by export (a file already held: exit 2)")
    p.add_argument("file")
    p.add_argument("--title", help="title of the new snapshot (default: the file's; a CSV has none)")

    p = leaf(sub, "label", cmd_label, "add or remove snapshot labels ('golden' needs an admin key)")
    p.add_argument("id")
    p.add_argument("add", nargs="*", metavar="LABEL", help="labels to add")
    p.add_argument("--remove", action="append", default=[], metavar="LABEL", help="label to remove, repeatable")
