"""The snapshot aggregate: take (cache or direct read), read back, export/import, dedupe, filter."""
