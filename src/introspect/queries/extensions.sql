-- Installed extensions but plpgsql, which every database has.
SELECT e.extname, n.nspname, e.oid, e.extversion
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname
