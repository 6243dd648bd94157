-- Foreign servers not created by an extension, with their wrapper.
SELECT s.oid, s.srvname::text, w.fdwname::text, s.srvtype, s.srvversion,
       coalesce(s.srvoptions, '{}') AS options,
       obj_description(s.oid, 'pg_foreign_server') AS comment
FROM pg_foreign_server s
JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_foreign_server'::regclass AND d.objid = s.oid AND d.deptype = 'e')
  AND $1::oid[] IS NOT NULL
ORDER BY 2
