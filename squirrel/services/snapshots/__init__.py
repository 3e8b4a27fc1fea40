"""The snapshot aggregate: `take` (cache or direct read, the job), `read` (a stored snapshot back),
`io` (export/import documents), `filter` (snapshot view filters), `codec` (the COPY writer and missing
tallies). Implementation: `_dedupe`, `_importing`."""

__all__ = ["codec", "filter", "io", "read", "take"]
