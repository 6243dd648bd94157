-- Functions, procedures and aggregates in user schemas ($1). Aggregates have no
-- pg_get_functiondef; their CREATE AGGREGATE options come from pg_aggregate, each as
-- PostgreSQL prints the function, type or operator.
SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS identity_arguments,
       p.prokind::text AS kind,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
       pg_get_function_arguments(p.oid) AS arguments,
       CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS result,
       l.lanname, coalesce(p.prosrc, '') AS body,
       obj_description(p.oid, 'pg_proc') AS comment,
       ARRAY[
           ag.aggtransfn::text, format_type(ag.aggtranstype, NULL),
           CASE WHEN ag.aggtransspace <> 0 THEN ag.aggtransspace::text END,
           nullif(ag.aggfinalfn, 0)::regproc::text,
           CASE WHEN ag.aggfinalextra THEN 'true' END,
           nullif(ag.aggcombinefn, 0)::regproc::text,
           nullif(ag.aggserialfn, 0)::regproc::text,
           nullif(ag.aggdeserialfn, 0)::regproc::text,
           ag.agginitval,
           nullif(ag.aggmtransfn, 0)::regproc::text,
           nullif(ag.aggminvtransfn, 0)::regproc::text,
           CASE WHEN ag.aggmtranstype <> 0 THEN format_type(ag.aggmtranstype, NULL) END,
           nullif(ag.aggmfinalfn, 0)::regproc::text,
           ag.aggminitval,
           CASE WHEN ag.aggsortop <> 0 THEN
               (SELECT 'OPERATOR(' || quote_ident(ons.nspname) || '.' || o.oprname || ')'
                FROM pg_operator o JOIN pg_namespace ons ON ons.oid = o.oprnamespace
                WHERE o.oid = ag.aggsortop) END,
           CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' END
       ] AS aggregate_options,
       -- The identity PostgreSQL keys a routine by: its name and input argument types.
       oidvectortypes(p.proargtypes) AS argument_types
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
WHERE p.pronamespace = ANY($1::oid[])
  -- Members of an extension, and routines that are part of another object (a range type's
  -- constructors), come with it.
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
ORDER BY 2, 3, 4
