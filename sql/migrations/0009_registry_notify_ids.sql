-- The monitor follows the registry incrementally: every statement that adds, removes or re-addresses
-- live PVs notifies channel squirrel_registry with the changed PV ids ("ids:<uuid>,<uuid>,..."), which
-- the monitor applies alone. When the ids do not fit NOTIFY's 8000-byte payload (bulk imports), the
-- payload is "resync" and the monitor reloads the whole registry once. Delivered on commit.
CREATE FUNCTION squirrel_registry_notify_ids(ids text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- 7900: below NOTIFY's limit with room for the prefix; 37 bytes per id, so ~213 ids per payload.
    IF cardinality(ids) > 200 THEN
        PERFORM pg_notify('squirrel_registry', 'resync');
        RETURN;
    END IF;
    payload := 'ids:' || array_to_string(ids, ',');
    IF octet_length(payload) > 7900 THEN
        payload := 'resync';
    END IF;
    PERFORM pg_notify('squirrel_registry', payload);
END
$$;

CREATE FUNCTION squirrel_pv_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM squirrel_registry_notify_ids(
        ARRAY(SELECT id::text FROM new_rows WHERE deleted_at IS NULL LIMIT 201));
    RETURN NULL;
END
$$;

CREATE FUNCTION squirrel_pv_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only changes the monitor cares about: an address, or live <-> deleted.
    PERFORM squirrel_registry_notify_ids(ARRAY(
        SELECT n.id::text FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.setpoint_address IS DISTINCT FROM o.setpoint_address
           OR n.readback_address IS DISTINCT FROM o.readback_address
           OR (n.deleted_at IS NULL) <> (o.deleted_at IS NULL)
        LIMIT 201));
    RETURN NULL;
END
$$;

CREATE FUNCTION squirrel_pv_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM squirrel_registry_notify_ids(
        ARRAY(SELECT id::text FROM old_rows WHERE deleted_at IS NULL LIMIT 201));
    RETURN NULL;
END
$$;

CREATE TRIGGER pv_registry_insert AFTER INSERT ON pv REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION squirrel_pv_inserted();
CREATE TRIGGER pv_registry_update AFTER UPDATE ON pv REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION squirrel_pv_updated();
CREATE TRIGGER pv_registry_delete AFTER DELETE ON pv REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION squirrel_pv_deleted();
