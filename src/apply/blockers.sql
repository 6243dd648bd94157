-- What session $1 waits for and who holds it: the lock it has not been granted, and each
-- session pg_blocking_pids names, with what it is doing.
SELECT (SELECT format('%s on %s', l.mode,
                      CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text
                           ELSE l.locktype END)
        FROM pg_locks l
        WHERE l.pid = $1 AND NOT l.granted
        LIMIT 1),
       string_agg(format('pid %s (%s, user %s, %s%s: %s)',
                         a.pid,
                         coalesce(nullif(a.application_name, ''), 'no application_name'),
                         a.usename,
                         a.state,
                         coalesce(', in a transaction since ' || to_char(a.xact_start, 'HH24:MI:SS'), ''),
                         left(regexp_replace(a.query, '\s+', ' ', 'g'), 80)),
                  '; ' ORDER BY a.pid)
FROM pg_stat_activity a
WHERE a.pid = ANY (pg_blocking_pids($1))
