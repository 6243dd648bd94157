-- Columns of those tables, in attnum order, with what their type and default depend on:
-- the (element) type when it is a user type or an extension's, and sequences the default uses.
-- What a column depends on is gathered once per catalog and joined, not looked up per row:
-- at 10,000 tables a lookup per column is most of the time.
WITH default_sequences AS (
    SELECT d.objid AS attrdef,
           array_agg(sn.nspname::text ORDER BY sn.nspname || '.' || s.relname) AS schemas,
           array_agg(s.relname::text ORDER BY sn.nspname || '.' || s.relname) AS names
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
    GROUP BY d.objid
),
-- Extensions whose functions a default or generation expression calls (uuid-ossp's
-- uuid_generate_v4(), say).
default_extensions AS (
    SELECT d.objid AS attrdef, array_agg(DISTINCT e.extname ORDER BY e.extname) AS names
    FROM pg_depend d
    JOIN pg_depend m ON m.classid = 'pg_proc'::regclass AND m.objid = d.refobjid
                    AND m.refclassid = 'pg_extension'::regclass AND m.deptype = 'e'
    JOIN pg_extension e ON e.oid = m.refobjid
    WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_proc'::regclass
    GROUP BY d.objid
),
type_extensions AS (
    SELECT d.objid AS type, min(e.extname) AS name
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.classid = 'pg_type'::regclass AND d.deptype = 'e'
    GROUP BY d.objid
),
-- NOT NULL constraints, which PostgreSQL 18 records (with a name, and NOT VALID or not).
not_nulls AS (
    SELECT conrelid, conkey[1] AS attnum, conname::text, convalidated
    FROM pg_constraint WHERE contype = 'n'
),
tables AS (
    SELECT c.oid, c.relname, n.nspname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND c.relnamespace = ANY($1::oid[])
      AND c.oid IS DISTINCT FROM to_regclass($2)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT c.nspname, c.relname, a.attname,
       format_type(a.atttypid, a.atttypmod) AS type_sql,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
           (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
            FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE co.oid = a.attcollation)
       END AS collation,
       a.attnotnull AND nn.convalidated IS NOT FALSE AS not_null,
       -- A default cannot name a column, so it is deparsed without its table: with the table,
       -- pg_get_expr opens it, which builds its relcache entry (half of this query's time at
       -- 10,000 tables in a new session). A generated column's expression names columns.
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0) END AS default_sql,
       a.attidentity::text AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated_sql,
       ds.description AS comment,
       bn.nspname AS type_schema, bt.typname AS type_name, bt.typtype::text AS type_kind,
       te.name AS type_extension,
       coalesce(dsq.schemas, '{}') AS default_sequence_schemas,
       coalesce(dsq.names, '{}') AS default_sequence_names,
       coalesce(dx.names, '{}') AS default_extensions,
       a.attrelid, a.attnum::int, ad.oid AS default_oid,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
       t.typstorage::text AS type_storage,
       nullif(a.attcompression::text, '') AS compression, -- before 14: NULL::text AS compression,
       nullif(a.attstattarget, -1)::int AS statistics,
       a.attinhcount > 0 AND NOT a.attislocal AS inherited,
       a.attgenerated::text = 'v' AS generated_virtual,
       CASE WHEN nn.convalidated THEN nn.conname END AS not_null_name
FROM tables c
JOIN pg_attribute a ON a.attrelid = c.oid
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
JOIN pg_namespace bn ON bn.oid = bt.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = a.attrelid AND ds.objsubid = a.attnum
LEFT JOIN type_extensions te ON te.type = bt.oid
LEFT JOIN default_sequences dsq ON dsq.attrdef = ad.oid
LEFT JOIN default_extensions dx ON dx.attrdef = ad.oid
LEFT JOIN not_nulls nn ON nn.conrelid = a.attrelid AND nn.attnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.nspname, c.relname, a.attnum
