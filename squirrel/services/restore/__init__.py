"""The restore aggregate. Public: `job` (request checks, dry-run plan, the staged resumable job).
Implementation: `_plan` (what would be written), `_source` (the backup), `_run` (stages)."""

__all__ = ["job"]
