"""The restore aggregate: plan (dry run), source (the backup), run (stages), job (the resumable job)."""
