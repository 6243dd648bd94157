-- Scratch databases no session is connected to: a live run stays connected to each of its own.
SELECT d.datname
FROM pg_database AS d
WHERE d.datname ~ '^schemadiff_[a-z_]+_[0-9]+_[0-9]+$'
  AND NOT EXISTS (SELECT FROM pg_stat_activity AS a WHERE a.datid = d.oid)
