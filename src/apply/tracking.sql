-- The migration tables other tools keep (Flyway, sqlx, golang-migrate, Rails, Diesel, pop, and the
-- hand-made ones), each with its rows as JSON: their columns differ from tool to tool.
SELECT n.nspname, c.relname,
       (xpath('/row/rows/text()',
              query_to_xml(format('SELECT coalesce(jsonb_agg(to_jsonb(t)), ''[]'') AS rows FROM %I.%I AS t',
                                  n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND c.relname IN ('schema_versions', '__migrations', 'migration_history', 'schema_migrations',
                    '_sqlx_migrations', 'flyway_schema_history', '__diesel_schema_migrations',
                    'schema_migration')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname
