-- Domains in user schemas ($1) with their check constraints.
SELECT t.oid, t.typarray, n.nspname, t.typname,
       format_type(t.typbasetype, t.typtypmod) AS base_type,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN
           (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
            FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE co.oid = t.typcollation)
       END AS collation,
       t.typdefault, t.typnotnull,
       ARRAY(SELECT c.conname::text FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'
             ORDER BY c.conname) AS constraint_names,
       ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
             WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS constraint_defs,
       obj_description(t.oid, 'pg_type') AS comment
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE t.typtype = 'd'
  AND t.typnamespace = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 3, 4
