-- ALTER DEFAULT PRIVILEGES: what new objects of a kind get, for the role that creates them
-- (NULL: the connected role), in one user schema ($1) or anywhere (schema NULL). The
-- creating role's own privileges are left out, as for objects.
SELECT CASE WHEN d.defaclrole <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
            THEN pg_get_userbyid(d.defaclrole)::text END AS role,
       n.nspname::text AS schema,
       CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
                            WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES'
                            ELSE 'SCHEMAS' END AS objects,
       coalesce(array_agg(CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END
                          ORDER BY x.grantee, x.privilege_type) FILTER (WHERE x.grantee IS NOT NULL),
                '{}') AS grantees,
       coalesce(array_agg(x.privilege_type::text ORDER BY x.grantee, x.privilege_type)
                FILTER (WHERE x.grantee IS NOT NULL), '{}') AS privileges,
       coalesce(array_agg(x.is_grantable ORDER BY x.grantee, x.privilege_type)
                FILTER (WHERE x.grantee IS NOT NULL), '{}') AS grantable
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
LEFT JOIN LATERAL aclexplode(d.defaclacl) x ON x.grantee <> d.defaclrole
WHERE d.defaclnamespace = 0 OR d.defaclnamespace = ANY($1)
GROUP BY d.defaclrole, n.nspname, d.defaclobjtype
