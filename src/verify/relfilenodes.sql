-- The storage file of every table and materialized view: a statement that rewrites one gives
-- it a new file, whether it holds rows or not, so the shadow can tell a rewrite from the rest.
SELECT c.oid::int8, n.nspname, c.relname, c.relfilenode::int8
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%'
