-- Indexes of tables and materialized views that do not back a constraint, with every column they read.
-- Columns and comments are joined, not looked up per index.
WITH indexes AS (
    SELECT i.indexrelid, i.indrelid, i.indisvalid, n.nspname, c.relname AS table_name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND c.relnamespace = ANY($1::oid[])
      -- A partition's copy of its parent's index comes with the parent's.
      AND NOT EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid)
      AND c.oid IS DISTINCT FROM to_regclass($2)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint co
                      WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid
                        AND co.contype IN ('p', 'u', 'x'))
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
),
index_columns AS (
    SELECT x.indexrelid, array_agg(DISTINCT a.attname ORDER BY a.attname) AS names
    FROM indexes x
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    GROUP BY x.indexrelid
)
SELECT x.nspname, ic.relname AS index_name, x.table_name,
       pg_get_indexdef(x.indexrelid) AS definition,
       coalesce(xc.names, '{}') AS columns,
       ds.description AS comment, x.indexrelid, x.indisvalid
FROM indexes x
JOIN pg_class ic ON ic.oid = x.indexrelid
LEFT JOIN index_columns xc ON xc.indexrelid = x.indexrelid
LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = x.indexrelid AND ds.objsubid = 0
ORDER BY 1, 2
