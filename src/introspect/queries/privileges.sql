-- The owner and privileges of every object in user schemas ($1) that has them, one row per
-- object, its ACL exploded into parallel arrays. A missing ACL is the kind's default
-- (acldefault), so a grant equal to the default compares equal to none. The owner's own
-- privileges come with ownership and are left out; an owner that is the connected role
-- reads as NULL (whoever runs the migration). Columns are listed only with privileges.
WITH objects AS (
    SELECT 'pg_namespace'::regclass::oid AS classid, n.oid AS objid, 0 AS objsubid,
           'SCHEMA' AS keyword, n.nspowner AS owner,
           coalesce(n.nspacl, acldefault('n'::"char", n.nspowner)) AS acl
    FROM pg_namespace n WHERE n.oid = ANY($1)
    UNION ALL
    SELECT 'pg_class'::regclass::oid, c.oid, 0,
           CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                          WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                          ELSE 'TABLE' END,
           c.relowner,
           coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))
    FROM pg_class c WHERE c.relnamespace = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    UNION ALL
    SELECT 'pg_class'::regclass::oid, a.attrelid, a.attnum, 'COLUMN', c.relowner, a.attacl
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attacl IS NOT NULL AND cardinality(a.attacl) > 0
    UNION ALL
    SELECT 'pg_proc'::regclass::oid, p.oid, 0,
           CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
           p.proowner, coalesce(p.proacl, acldefault('f'::"char", p.proowner))
    FROM pg_proc p WHERE p.pronamespace = ANY($1)
    UNION ALL
    SELECT 'pg_type'::regclass::oid, t.oid, 0, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           t.typowner, coalesce(t.typacl, acldefault('T'::"char", t.typowner))
    FROM pg_type t
    WHERE t.typnamespace = ANY($1)
      AND (t.typtype IN ('d', 'e', 'r')
           OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
    UNION ALL
    SELECT 'pg_foreign_server'::regclass::oid, s.oid, 0, 'SERVER', s.srvowner,
           coalesce(s.srvacl, acldefault('S'::"char", s.srvowner))
    FROM pg_foreign_server s
    UNION ALL
    SELECT 'pg_collation'::regclass::oid, c.oid, 0, 'COLLATION', c.collowner, NULL::aclitem[]
    FROM pg_collation c WHERE c.collnamespace = ANY($1)
    UNION ALL
    SELECT 'pg_operator'::regclass::oid, o.oid, 0, 'OPERATOR', o.oprowner, NULL::aclitem[]
    FROM pg_operator o WHERE o.oprnamespace = ANY($1)
)
SELECT o.classid, o.objid, o.objsubid, o.keyword,
       CASE WHEN o.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
            THEN pg_get_userbyid(o.owner)::text END AS owner,
       coalesce(array_agg(CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END
                          ORDER BY x.grantee, x.privilege_type) FILTER (WHERE x.grantee IS NOT NULL),
                '{}') AS grantees,
       coalesce(array_agg(x.privilege_type::text ORDER BY x.grantee, x.privilege_type)
                FILTER (WHERE x.grantee IS NOT NULL), '{}') AS privileges,
       coalesce(array_agg(x.is_grantable ORDER BY x.grantee, x.privilege_type)
                FILTER (WHERE x.grantee IS NOT NULL), '{}') AS grantable
FROM objects o
LEFT JOIN LATERAL aclexplode(o.acl) x ON x.grantee <> o.owner
GROUP BY o.classid, o.objid, o.objsubid, o.keyword, o.owner
