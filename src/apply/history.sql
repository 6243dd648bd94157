CREATE TABLE IF NOT EXISTS {history} (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user,
    execution_ms bigint NOT NULL DEFAULT 0,
    status text NOT NULL CHECK (status IN ('applied', 'failed', 'rolled_back', 'partial')),
    error_message text,
    rolled_back_at timestamptz,
    groups_done integer NOT NULL DEFAULT 0,
    applied_xid bigint
);
-- A table from before per-group progress: the column, and 'partial' among the states.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = {history_literal}::regclass
                     AND attname = 'groups_done') THEN
        ALTER TABLE {history}
            ADD COLUMN groups_done integer NOT NULL DEFAULT 0,
            DROP CONSTRAINT IF EXISTS schemadiff_migrations_status_check,
            ADD CONSTRAINT schemadiff_migrations_status_check
                CHECK (status IN ('applied', 'failed', 'rolled_back', 'partial'));
    END IF;
END
$$;
-- A table from before the down guard: the transaction that applied each migration, so that
-- `down` tells rows written since from those the migration itself made.
ALTER TABLE {history} ADD COLUMN IF NOT EXISTS applied_xid bigint;
