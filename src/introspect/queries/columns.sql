-- Columns of those tables, in attnum order, with what their type and default depend on:
-- the (element) type when it is a user type or an extension's, and sequences the default uses.
SELECT n.nspname, c.relname, a.attname,
       format_type(a.atttypid, a.atttypmod) AS type_sql,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
           (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
            FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE co.oid = a.attcollation)
       END AS collation,
       a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default_sql,
       a.attidentity::text AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated_sql,
       col_description(c.oid, a.attnum) AS comment,
       bn.nspname AS type_schema, bt.typname AS type_name, bt.typtype::text AS type_kind,
       (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_type'::regclass AND d.objid = bt.oid AND d.deptype = 'e') AS type_extension,
       ARRAY(SELECT sn.nspname FROM pg_depend d
             JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
             JOIN pg_namespace sn ON sn.oid = s.relnamespace
             WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
               AND d.refclassid = 'pg_class'::regclass
             ORDER BY sn.nspname || '.' || s.relname) AS default_sequence_schemas,
       ARRAY(SELECT s.relname FROM pg_depend d
             JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
             JOIN pg_namespace sn ON sn.oid = s.relnamespace
             WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
               AND d.refclassid = 'pg_class'::regclass
             ORDER BY sn.nspname || '.' || s.relname) AS default_sequence_names,
       -- Extensions whose functions the default or generation expression calls (uuid-ossp's
       -- uuid_generate_v4(), say).
       ARRAY(SELECT DISTINCT e.extname FROM pg_depend d
             JOIN pg_depend m ON m.classid = 'pg_proc'::regclass AND m.objid = d.refobjid
                             AND m.refclassid = 'pg_extension'::regclass AND m.deptype = 'e'
             JOIN pg_extension e ON e.oid = m.refobjid
             WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
               AND d.refclassid = 'pg_proc'::regclass
             ORDER BY 1) AS default_extensions,
       a.attrelid, a.attnum::int, ad.oid AS default_oid,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
       t.typstorage::text AS type_storage,
       -- attcompression is PostgreSQL 14's; read through jsonb so that 13 reads NULL.
       nullif(to_jsonb(a) ->> 'attcompression', '') AS compression,
       nullif(a.attstattarget, -1)::int AS statistics,
       a.attinhcount > 0 AND NOT a.attislocal AS inherited
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
JOIN pg_namespace bn ON bn.oid = bt.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p')
  AND c.relnamespace = ANY($1::oid[])
  AND c.oid IS DISTINCT FROM to_regclass($2)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname, a.attnum
