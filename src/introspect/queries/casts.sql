-- User-defined casts (OIDs from FirstNormalObjectId on), but an extension's. $1 (the user
-- schemas) is not needed: a cast belongs to no schema.
SELECT ca.oid, format_type(ca.castsource, NULL) AS source, format_type(ca.casttarget, NULL) AS target,
       CASE WHEN ca.castfunc <> 0 THEN ca.castfunc::regprocedure::text END AS function,
       ca.castmethod::text, ca.castcontext::text,
       obj_description(ca.oid, 'pg_cast') AS comment
FROM pg_cast ca
WHERE ca.oid >= 16384 AND cardinality($1::oid[]) >= 0
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_cast'::regclass AND d.objid = ca.oid AND d.deptype IN ('e', 'i'))
ORDER BY 2, 3
