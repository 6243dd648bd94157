-- Objects in user schemas ($1) that schemadiff does not manage, so that a plan stops when
-- they differ instead of leaving them out silently. Extension members are the extension's.
SELECT kind || ' ' || name FROM (
    SELECT 'operator class' AS kind, quote_ident(n.nspname) || '.' || quote_ident(o.opcname) AS name,
           'pg_opclass'::regclass AS class, o.oid
    FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace WHERE o.opcnamespace = ANY($1::oid[])
    UNION ALL
    SELECT 'operator family', quote_ident(n.nspname) || '.' || quote_ident(o.opfname), 'pg_opfamily'::regclass, o.oid
    FROM pg_opfamily o JOIN pg_namespace n ON n.oid = o.opfnamespace WHERE o.opfnamespace = ANY($1::oid[])
    UNION ALL
    SELECT 'text search configuration', quote_ident(n.nspname) || '.' || quote_ident(c.cfgname), 'pg_ts_config'::regclass, c.oid
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE c.cfgnamespace = ANY($1::oid[])
    UNION ALL
    SELECT 'text search dictionary', quote_ident(n.nspname) || '.' || quote_ident(d.dictname), 'pg_ts_dict'::regclass, d.oid
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE d.dictnamespace = ANY($1::oid[])
    UNION ALL
    SELECT 'statistics', quote_ident(n.nspname) || '.' || quote_ident(s.stxname), 'pg_statistic_ext'::regclass, s.oid
    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE s.stxnamespace = ANY($1::oid[])
    UNION ALL
    SELECT 'conversion', quote_ident(n.nspname) || '.' || quote_ident(c.conname), 'pg_conversion'::regclass, c.oid
    FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.connamespace = ANY($1::oid[])
    UNION ALL
    SELECT 'foreign data wrapper', quote_ident(w.fdwname), 'pg_foreign_data_wrapper'::regclass, w.oid
    FROM pg_foreign_data_wrapper w
    UNION ALL
    SELECT 'user mapping', quote_ident(um.usename) || ' server ' || quote_ident(um.srvname), 'pg_user_mapping'::regclass, um.umid
    FROM pg_user_mappings um
    UNION ALL
    SELECT 'publication', quote_ident(p.pubname), 'pg_publication'::regclass, p.oid FROM pg_publication p
) unmanaged
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = unmanaged.class AND d.objid = unmanaged.oid AND d.deptype = 'e')
ORDER BY 1
