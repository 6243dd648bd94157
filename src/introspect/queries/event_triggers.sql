-- Event triggers not created by an extension.
SELECT e.oid, e.evtname::text, e.evtevent::text, coalesce(e.evttags, '{}') AS tags,
       e.evtfoid::regproc::text AS function, e.evtenabled::text AS enabled,
       obj_description(e.oid, 'pg_event_trigger') AS comment
FROM pg_event_trigger e
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid AND d.deptype = 'e')
  AND $1::oid[] IS NOT NULL
ORDER BY 2
