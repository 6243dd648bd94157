-- Row-level security policies of tables in user schemas ($1).
SELECT pol.oid, n.nspname, c.relname, pol.polname, pol.polpermissive,
       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE (SELECT rolname::text FROM pg_roles WHERE oid = r.oid) END
             FROM unnest(pol.polroles) r(oid) ORDER BY 1) AS roles,
       pg_get_expr(pol.polqual, pol.polrelid) AS using_sql,
       pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_sql,
       obj_description(pol.oid, 'pg_policy') AS comment
FROM pg_policy pol
JOIN pg_class c ON c.oid = pol.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY($1::oid[])
ORDER BY 2, 3, 4
