-- The edges of views' rules only: what a catalog that is only compared needs of pg_depend
-- (whether a view reads itself), a fraction of dependencies.sql's rows.
SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype::text
FROM pg_depend
WHERE classid = 'pg_rewrite'::regclass AND objid >= 16384 AND deptype IN ('n', 'i')
