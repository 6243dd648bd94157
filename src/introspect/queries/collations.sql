-- User collations in user schemas ($1). The ICU locale column was renamed in PostgreSQL 17
-- (colliculocale -> colllocale): read through jsonb so that every version answers.
SELECT co.oid, n.nspname, co.collname,
       CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END AS provider,
       CASE WHEN co.collprovider = 'c' THEN to_jsonb(co) ->> 'collcollate' END AS lc_collate,
       CASE WHEN co.collprovider = 'c' THEN to_jsonb(co) ->> 'collctype' END AS lc_ctype,
       coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale') AS locale,
       co.collisdeterministic,
       obj_description(co.oid, 'pg_collation') AS comment
FROM pg_collation co
JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE co.collnamespace = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_collation'::regclass AND d.objid = co.oid AND d.deptype = 'e')
ORDER BY 2, 3
