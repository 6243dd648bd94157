-- Ordinary tables in user schemas ($1), but the history table ($2). Partitions belong to
-- their parent and come with partitioning.
SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') AS comment, c.oid, c.reltype,
       c.relrowsecurity, c.relforcerowsecurity, c.relpersistence = 'u' AS unlogged,
       coalesce(c.reloptions, '{}') AS options, c.relreplident::text AS replica_identity,
       (SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = c.oid AND i.indisreplident) AS replica_index
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND c.relnamespace = ANY($1::oid[])
  AND NOT c.relispartition
  AND c.oid IS DISTINCT FROM to_regclass($2)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
