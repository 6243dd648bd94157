-- Ordinary and partitioned tables and partitions in user schemas ($1), but the history
-- table ($2, or one marked so), with their parents: the partitioned table and bound of a partition, the
-- tables a table INHERITS from. Comments and parents are joined, not looked up per table.
WITH parents AS (
    SELECT ih.inhrelid AS child,
           array_agg(pn.nspname::text ORDER BY ih.inhseqno) AS schemas,
           array_agg(p.relname::text ORDER BY ih.inhseqno) AS names
    FROM pg_inherits ih
    JOIN pg_class p ON p.oid = ih.inhparent
    JOIN pg_namespace pn ON pn.oid = p.relnamespace
    GROUP BY ih.inhrelid
)
SELECT n.nspname, c.relname, ds.description AS comment, c.oid, c.reltype,
       c.relrowsecurity, c.relforcerowsecurity, c.relpersistence = 'u' AS unlogged,
       coalesce(c.reloptions, '{}') AS options, c.relreplident::text AS replica_identity,
       ri.relname::text AS replica_index,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by,
       CASE WHEN c.relispartition THEN pa.schemas[1] END AS partition_parent_schema,
       CASE WHEN c.relispartition THEN pa.names[1] END AS partition_parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       CASE WHEN c.relispartition THEN '{}' ELSE coalesce(pa.schemas, '{}') END AS parent_schemas,
       CASE WHEN c.relispartition THEN '{}' ELSE coalesce(pa.names, '{}') END AS parent_names
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = c.oid AND ds.objsubid = 0
LEFT JOIN pg_index rx ON rx.indrelid = c.oid AND rx.indisreplident
LEFT JOIN pg_class ri ON ri.oid = rx.indexrelid
LEFT JOIN parents pa ON pa.child = c.oid
WHERE c.relkind IN ('r', 'p')
  AND c.relnamespace = ANY($1::oid[])
  AND c.oid IS DISTINCT FROM to_regclass($2)
  -- A history table kept elsewhere (`history_table`) is marked by its comment.
  AND coalesce(ds.description, '') NOT LIKE 'schemadiff: migration history%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
