-- Enum types in user schemas ($1), labels in sort order.
SELECT n.nspname, t.typname,
       coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FILTER (WHERE e.enumlabel IS NOT NULL),
                '{}') AS labels,
       obj_description(t.oid, 'pg_type') AS comment, t.oid, t.typarray
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typtype = 'e'
  AND t.typnamespace = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
GROUP BY n.nspname, t.typname, t.oid, t.typarray
ORDER BY 1, 2
