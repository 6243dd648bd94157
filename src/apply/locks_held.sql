-- The locks this session holds (up to 16 of them kept outside the shared lock table).
SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = pg_catalog.pg_backend_pid()
