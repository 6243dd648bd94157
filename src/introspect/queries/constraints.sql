-- Primary key, unique, check, foreign key and exclusion constraints of those tables, and
-- PostgreSQL 18's NOT VALID NOT NULL (a validated one is its column's, see columns.sql).
-- A foreign key names the key it references: the referenced table's constraint, else its index.
SELECT n.nspname, c.relname, co.conname, co.contype::text AS kind,
       pg_get_constraintdef(co.oid) AS definition,
       -- The columns by number, named from the columns read already: looking each up here
       -- was a third of this query.
       co.conkey::int4[] AS column_numbers,
       rn.nspname AS ref_schema, rc.relname AS ref_table,
       (SELECT x.conname FROM pg_constraint x
        WHERE x.conrelid = co.confrelid AND x.conindid = co.conindid AND x.contype IN ('p', 'u')
        LIMIT 1) AS ref_constraint,
       ri.relname AS ref_index,
       ds.description AS comment, co.oid, co.conindid,
       -- Only a plan builds a key's index first; a read to compare ($3 false) leaves it out.
       CASE WHEN co.contype IN ('p', 'u') AND $3 THEN pg_get_indexdef(co.conindid) END AS index_definition,
       co.conrelid
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = co.confrelid AND co.contype = 'f'
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_class ri ON ri.oid = co.conindid AND co.contype = 'f'
-- Joined rather than obj_description(), which runs a query of its own for every row.
LEFT JOIN pg_description ds ON ds.classoid = 'pg_constraint'::regclass AND ds.objoid = co.oid AND ds.objsubid = 0
WHERE (co.contype IN ('p', 'u', 'c', 'f', 'x') OR co.contype = 'n' AND NOT co.convalidated)
  AND co.conislocal
  AND co.conparentid = 0
  AND c.relkind IN ('r', 'p')
  AND c.relnamespace = ANY($1::oid[])
  AND c.oid IS DISTINCT FROM to_regclass($2)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2, 3
