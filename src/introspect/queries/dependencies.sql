-- Every dependency edge from a user object (OIDs from FirstNormalObjectId on): normal and
-- automatic ones order the plan; internal ones say what an object is part of (a view's rule,
-- an array type); extension ones say what belongs to an extension.
SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype::text
FROM pg_depend
WHERE objid >= 16384 AND deptype IN ('n', 'a', 'i', 'e')
