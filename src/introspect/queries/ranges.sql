-- Range types in user schemas ($1), each option as CREATE TYPE ... AS RANGE spells it; the
-- ones equal to what PostgreSQL would choose by itself are left out.
SELECT t.oid, t.typarray, r.rngmultitypid, n.nspname, t.typname, -- before 14: SELECT t.oid, t.typarray, 0::oid AS rngmultitypid, n.nspname, t.typname,
       format_type(r.rngsubtype, NULL) AS subtype,
       ARRAY[
           CASE WHEN NOT oc.opcdefault THEN quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) END,
           CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN
               (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = r.rngcollation) END,
           nullif(r.rngcanonical, 0)::regproc::text,
           nullif(r.rngsubdiff, 0)::regproc::text,
           CASE WHEN mt.typname::text <> CASE WHEN t.typname ~ 'range'
                                              THEN regexp_replace(t.typname, 'range', 'multirange')
                                              ELSE t.typname || '_multirange' END
                  OR mt.typnamespace <> t.typnamespace
                THEN quote_ident(mn.nspname) || '.' || quote_ident(mt.typname) END
       ] AS options,
       obj_description(t.oid, 'pg_type') AS comment
FROM pg_range r
JOIN pg_type t ON t.oid = r.rngtypid
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type st ON st.oid = r.rngsubtype
JOIN pg_opclass oc ON oc.oid = r.rngsubopc
JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
JOIN pg_type mt ON mt.oid = r.rngmultitypid -- before 14: LEFT JOIN pg_type mt ON false
JOIN pg_namespace mn ON mn.oid = mt.typnamespace -- before 14: LEFT JOIN pg_namespace mn ON false
WHERE t.typnamespace = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 4, 5
