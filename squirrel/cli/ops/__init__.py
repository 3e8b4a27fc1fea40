"""Operator verbs of the `squirrel` command, over the HTTP API: snapshot, pvs, tags, jobs, health.

Exit codes: 0 done; 1 ran but not completely; 2 usage, configuration or a refused request; 3 server
unreachable, unauthorised or unavailable; 130 interrupted.
"""

from __future__ import annotations

from typing import Any

from squirrel.cli.ops import compare_cmd, jobs_cmds, registry_cmds, restore_cmd, snapshot_cmds
from squirrel.cli.ops.common import leaf


def register(sub: Any) -> None:
    """Adds the verbs to the `squirrel` parser's subcommands."""
    snap = sub.add_parser("snapshot", help="take, list, show, compare, restore, export, import, label snapshots")
    snap_sub = snap.add_subparsers(dest="snapshot_command", required=True)
    snapshot_cmds.register(snap_sub)
    compare_cmd.register(snap_sub)
    restore_cmd.register(snap_sub)

    pvs = sub.add_parser("pvs", help="the PV registry: list, search, import, export")
    registry_cmds.register_pvs(pvs.add_subparsers(dest="pvs_command", required=True))

    tags = sub.add_parser("tags", help="tag groups and tags")
    registry_cmds.register_tags(tags.add_subparsers(dest="tags_command", required=True))

    jobs = sub.add_parser("jobs", help="snapshot and restore jobs: list, watch, cancel")
    jobs_cmds.register_jobs(jobs.add_subparsers(dest="jobs_command", required=True))

    leaf(sub, "health", jobs_cmds.cmd_health, "is the server ready, and how are its PVs")
