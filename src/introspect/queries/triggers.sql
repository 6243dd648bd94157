-- User triggers on tables and views in user schemas ($1); internal ones (foreign keys) and
-- the clones a partition inherits from its parent are left out.
SELECT t.oid, n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS state, ds.description AS comment
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds ON ds.classoid = 'pg_trigger'::regclass AND ds.objoid = t.oid AND ds.objsubid = 0
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0
  AND c.relnamespace = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 2, 3, 4
