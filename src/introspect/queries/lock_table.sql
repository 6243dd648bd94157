-- The size of the shared lock table, as PostgreSQL sizes it: max_locks_per_transaction
-- slots for each server process (connections, autovacuum workers and their launcher,
-- background workers, WAL senders) and each prepared transaction.
SELECT current_setting('max_locks_per_transaction')::int8,
       current_setting('max_connections')::int8
         + coalesce(current_setting('autovacuum_worker_slots', true),
                    current_setting('autovacuum_max_workers'))::int8 + 1
         + current_setting('max_worker_processes')::int8
         + current_setting('max_wal_senders')::int8
         + current_setting('max_prepared_transactions')::int8
