-- Objects in user schemas ($1) that schemadiff does not manage yet, so a plan can say that
-- they differ instead of staying silent.
SELECT kind || ' ' || name FROM (
    SELECT 'foreign table' AS kind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind = 'f'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'range type', quote_ident(n.nspname) || '.' || quote_ident(t.typname)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typnamespace = ANY($1::oid[]) AND t.typtype = 'r'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'event trigger', quote_ident(e.evtname) FROM pg_event_trigger e
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid AND d.deptype = 'e')
) unmanaged
ORDER BY 1
