-- Ordinary and partitioned tables and partitions in user schemas ($1), but the history
-- table ($2, or one marked so), with their parents: the partitioned table and bound of a partition, the
-- tables a table INHERITS from.
SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') AS comment, c.oid, c.reltype,
       c.relrowsecurity, c.relforcerowsecurity, c.relpersistence = 'u' AS unlogged,
       coalesce(c.reloptions, '{}') AS options, c.relreplident::text AS replica_identity,
       (SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = c.oid AND i.indisreplident) AS replica_index,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by,
       (SELECT pn.nspname::text FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent
        JOIN pg_namespace pn ON pn.oid = p.relnamespace
        WHERE ih.inhrelid = c.oid AND c.relispartition) AS partition_parent_schema,
       (SELECT p.relname::text FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent
        WHERE ih.inhrelid = c.oid AND c.relispartition) AS partition_parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       ARRAY(SELECT pn.nspname::text FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent
             JOIN pg_namespace pn ON pn.oid = p.relnamespace
             WHERE ih.inhrelid = c.oid AND NOT c.relispartition ORDER BY ih.inhseqno) AS parent_schemas,
       ARRAY(SELECT p.relname::text FROM pg_inherits ih JOIN pg_class p ON p.oid = ih.inhparent
             WHERE ih.inhrelid = c.oid AND NOT c.relispartition ORDER BY ih.inhseqno) AS parent_names
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND c.relnamespace = ANY($1::oid[])
  AND c.oid IS DISTINCT FROM to_regclass($2)
  -- A history table kept elsewhere (`history_table`) is marked by its comment.
  AND coalesce(obj_description(c.oid, 'pg_class'), '') NOT LIKE 'schemadiff: migration history%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
