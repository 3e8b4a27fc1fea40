"""squirrel snapshot restore ID: the dry-run plan, a confirmation, bars per stage, the outcome table."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from squirrel.cli.ops import tagnames
from squirrel.cli.ops.common import INCOMPLETE, OK, Ops, UsageError, leaf
from squirrel.cli.ops.progress import follow
from squirrel.cli.ops.render import table, value_text
from squirrel.cli.ops.snapshot_cmds import snapshot_ref
from squirrel.client import ConflictError, Job, RestoreOutcome, RestoreRequest
from squirrel.model import RestorePlan, RestoreResultItem

PLAN_ROWS = 5  # rows shown per planned action
FAILED = ("mismatch", "disconnected", "timeout", "failed", "out_of_limits")


def tagged_pv_ids(ops: Ops, snapshot_id: UUID, tag_specs: list[str] | None) -> list[UUID] | None:
    """The snapshot's PVs carrying any of the tags (None = all PVs)."""
    tags = tagnames.resolve(ops.client, tag_specs)
    if not tags:
        return None
    wanted = {t.id for t in tags}
    snap = ops.client.get_snapshot(snapshot_id)
    ids = [pv.pv_id for pv in snap.pv_values if wanted & {t.id for t in pv.tags}]
    if not ids:
        raise UsageError(f"no PV of snapshot {snapshot_id} carries {', '.join(t.label for t in tags)}")
    return ids


def show_plan(ops: Ops, plan: RestorePlan) -> None:
    by_action: dict[str, list[Any]] = defaultdict(list)
    for item in plan.items:
        by_action[item.action].append(item)
    summary = ", ".join(f"{n:,} {action}" for action, n in sorted(plan.counts.items()))
    ops.note(f"plan for snapshot {plan.snapshot_id}: {summary or 'nothing to do'}")
    t = table("action", "PV", "current", "target")
    for action in sorted(by_action, key=lambda a: (a == "equal", a)):
        items = by_action[action]
        for item in items[:PLAN_ROWS]:
            t.add_row(action, item.pv_name, value_text(item.current_value), value_text(item.target_value))
        if len(items) > PLAN_ROWS:
            t.add_row(action, f"… and {len(items) - PLAN_ROWS:,} more", "", "")
    ops.err.print(t)


def outcome_rows(outcome: RestoreOutcome) -> list[RestoreResultItem]:
    """Failures first, then skips, then successes; by name within each."""

    def rank(item: RestoreResultItem) -> tuple[int, str]:
        order = 0 if item.outcome in FAILED else 2 if item.outcome in ("written", "verified", "equal") else 1
        return order, item.pv_name

    return sorted(outcome.items, key=rank)


def wait_with_cancel(ops: Ops, job_id: UUID) -> Job:
    """Follow the restore; Ctrl-C asks whether to cancel it (a second Ctrl-C leaves it running, exit 130)."""
    announce = True
    while True:
        try:
            if announce:  # inside the try: a Ctrl-C from the moment the job exists asks about it
                announce = False
                ops.note(f"restore job {job_id} queued")
            return follow(ops, job_id, "restore")
        except KeyboardInterrupt:
            ops.note("")
            try:
                cancel = ops.ask(f"Cancel restore job {job_id}?")
            except KeyboardInterrupt:
                ops.note(f"\nthe restore goes on; follow it with: squirrel jobs watch {job_id}")
                raise
            if not cancel:
                ops.note("still following the restore (Ctrl-C again to ask again)")
                continue
            try:
                ops.client.cancel_job(job_id)
                ops.note("cancel requested")
            except ConflictError as exc:  # it finished meanwhile
                ops.note(f"too late to cancel: {exc.detail}")
            return ops.client.wait_job(job_id, timeout=120)


def cmd_restore(ops: Ops) -> int:
    a = ops.args
    client = ops.client
    sid = snapshot_ref(client, a.id)
    request = RestoreRequest(
        pv_ids=tagged_pv_ids(ops, sid, a.tag), skip_equal=a.skip_equal, verify=a.verify, backup=not a.no_backup,
        force=a.force,
    )  # fmt: skip
    plan = client.restore_plan(sid, request)
    show_plan(ops, plan)
    if not a.yes and not ops.ask(f"Restore {len(plan.items):,} PVs from snapshot {sid}?"):
        ops.note("restore not started")
        return INCOMPLETE
    queued = client.restore(sid, request)
    job = wait_with_cancel(ops, queued.job_id)
    outcome = job.restore_outcome()
    failures = outcome.failure_count if outcome else 0
    doc = {"job": job, "plan": {"counts": plan.counts}, "result": outcome}

    def render() -> None:
        if outcome is not None:
            t = table("PV", "outcome", "error")
            for item in outcome_rows(outcome):
                t.add_row(item.pv_name, item.outcome, item.error or "")
            ops.out.print(t)

    ops.emit(doc, render)
    if outcome is not None:
        counts = ", ".join(f"{n:,} {k}" for k, n in sorted(outcome.counts.items()))
        changed = "" if outcome.changed_count is None else f", {outcome.changed_count:,} changed"
        ops.note(f"{outcome.success_count:,} restored, {failures:,} failed{changed} ({counts})")
        if outcome.backup_snapshot_id:
            ops.note(f"undo: squirrel snapshot restore {outcome.backup_snapshot_id}")
    if job.status != "completed" or failures:
        ops.note(f"restore {job.status}: {job.error or job.message}")
        return INCOMPLETE
    return OK


def register(sub: Any) -> None:
    p = leaf(sub, "restore", cmd_restore, "restore a snapshot's values to the IOCs (plan, confirm, follow)")
    p.add_argument("id", help="snapshot id or 'golden'")
    p.add_argument(
        "--tag", action="append", metavar="NAME", help="only PVs with this tag (Group=Tag or Tag), repeatable"
    )
    p.add_argument("--skip-equal", action="store_true", help="do not write PVs already within tolerance")
    p.add_argument("--verify", action="store_true", help="read readbacks back after each stage")
    p.add_argument("--no-backup", action="store_true", help="do not snapshot the current values first")
    p.add_argument("--force", action="store_true", help="write targets outside the drive limits too")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
