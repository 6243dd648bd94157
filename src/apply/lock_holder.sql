-- Who holds schemadiff's migration lock on this database ($1: the low 32 bits of its key).
SELECT format('pid %s (%s, user %s, from %s, connected since %s)',
              a.pid,
              coalesce(nullif(a.application_name, ''), 'no application_name'),
              a.usename,
              coalesce(host(a.client_addr), 'a local socket'),
              to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS'))
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = 0
  AND l.objid = $1
  AND l.objsubid = 1
