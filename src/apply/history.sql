CREATE TABLE IF NOT EXISTS public.schemadiff_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user,
    execution_ms bigint NOT NULL DEFAULT 0,
    status text NOT NULL CHECK (status IN ('applied', 'failed', 'rolled_back')),
    error_message text,
    rolled_back_at timestamptz
)
