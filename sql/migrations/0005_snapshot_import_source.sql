-- Where an imported snapshot came from, so importing the same file twice answers 409 naming the first
-- import instead of silently making a copy. import_source: the id of the snapshot the file was exported
-- from (JSON exports carry it); import_digest: SHA-256 of the title and the values as both export
-- formats carry them (see squirrel/services/snapshot_dedupe.py). NULL for snapshots taken here.
ALTER TABLE snapshot ADD COLUMN import_source uuid, ADD COLUMN import_digest bytea;
CREATE INDEX snapshot_import_source_idx ON snapshot (import_source) WHERE import_source IS NOT NULL;
CREATE INDEX snapshot_import_digest_idx ON snapshot (import_digest) WHERE import_digest IS NOT NULL;
