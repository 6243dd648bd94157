//! `apply` as production meets it: replicas migrating at once, a run that holds the lock, and
//! a table another session keeps locked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};

use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

type Case = fn(&TestServer) -> Result<(), Failed>;

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        ("eight_applies_at_once_apply_each_migration_once", eight_at_once),
        ("a_held_migration_lock_is_waited_for_and_its_holder_named", held_migration_lock),
        ("a_lock_timeout_is_retried_then_names_the_lock_and_its_holder", lock_timeout_retried),
        ("a_run_killed_at_each_part_resumes_where_it_stopped", killed_at_each_part),
        ("ctrl_c_cancels_on_the_server_and_says_what_committed", ctrl_c_cancels),
        ("an_application_applies_embedded_or_directory_migrations_at_start_up", library_apply),
        ("a_permission_problem_shows_postgresqls_message", permission_message_shown),
        ("a_plan_warns_when_the_targets_lock_table_is_too_small", lock_table_too_small),
        ("a_replay_commits_as_it_goes_past_a_small_lock_table", replay_commits_as_it_goes),
    ];
    cases
        .into_iter()
        .map(|(name, f)| {
            let server = server.clone();
            Trial::test(format!("production::{name}"), move || f(&server))
        })
        .collect()
}

/// Writes migration files (up, down) and their sum, as `plan` would.
fn write_migrations(work: &Workdir, files: &[(&str, &str, &str)]) {
    let dir = work.migrations_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, up, down) in files {
        std::fs::write(dir.join(format!("{name}.up.sql")), up).unwrap();
        std::fs::write(dir.join(format!("{name}.down.sql")), down).unwrap();
    }
    let all = schemadiff::migrations::read_dir(&dir).unwrap();
    std::fs::write(dir.join("schemadiff.sum"), schemadiff::migrations::sum_text(&all)).unwrap();
}

fn eight_at_once(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("eight_at_once").await;
        let work = Workdir::new();
        write_migrations(
            &work,
            &[
                ("001_runs", "CREATE TABLE runs (n int);\n", "DROP TABLE runs;\n"),
                // Slow, and not idempotent: a second run of it would leave two rows.
                (
                    "002_once",
                    "SELECT pg_sleep(0.5);\nINSERT INTO runs VALUES (2);\n",
                    "DELETE FROM runs;\n",
                ),
                ("003_more", "INSERT INTO runs VALUES (3);\n", "DELETE FROM runs WHERE n = 3;\n"),
            ],
        );
        let children: Vec<_> = (0..8)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"))
                    .args(["apply", "--database-url", &db.url])
                    .current_dir(work.path())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        for o in &outputs {
            ensure(o.status.success(), format!("an apply failed: {}", text(o)))?;
        }
        let applied = outputs.iter().filter(|o| text(o).contains("Applied 002_once")).count();
        ensure(applied == 1, format!("002 was applied by {applied} runs"))?;
        let idle = outputs.iter().filter(|o| text(o).contains("Nothing to apply")).count();
        ensure(idle == 7, format!("{idle} runs found nothing to do"))?;
        let rows: Vec<i32> = db
            .client
            .query("SELECT n FROM runs ORDER BY n", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ensure(rows == [2, 3], format!("rows {rows:?}"))?;
        let history: Vec<(i32, String)> = db
            .client
            .query("SELECT version, status FROM public.schemadiff_migrations ORDER BY version", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        ensure(
            history.iter().all(|(_, s)| s == "applied") && history.len() == 3,
            format!("{history:?}"),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn held_migration_lock(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("held_lock").await;
        let work = Workdir::new();
        write_migrations(&work, &[("001_t", "CREATE TABLE t (id int);\n", "DROP TABLE t;\n")]);
        std::fs::write(work.path().join("schemadiff.toml"), "lock_wait = \"1s\"\n").unwrap();
        let holder = schemadiff::connect::connect_url(&db.url).await?;
        let pid: i32 = holder.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
        holder.execute("SELECT pg_advisory_lock(1552863743)", &[]).await?;
        let started = Instant::now();
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        let out = text(&o);
        ensure(!o.status.success(), format!("apply ran while another held the lock: {out}"))?;
        ensure(started.elapsed() >= Duration::from_secs(1), "apply did not wait for lock_wait")?;
        ensure(
            out.contains("waiting for the migration lock, held by")
                && out.contains(&format!(
                    "holds this database's migration lock: pid {pid} (schemadiff"
                )),
            out.clone(),
        )?;
        let table: Option<String> =
            db.client.query_one("SELECT to_regclass('t')::text", &[]).await?.get(0);
        ensure(table.is_none(), "the migration ran")?;
        // Once the holder lets go, a waiting run goes ahead.
        std::fs::write(work.path().join("schemadiff.toml"), "lock_wait = \"30s\"\n").unwrap();
        let path = work.path().to_path_buf();
        let url = db.url.clone();
        let waiting = std::thread::spawn(move || bin(&path, &["apply", "--database-url", &url]));
        tokio::time::sleep(Duration::from_millis(700)).await;
        holder.execute("SELECT pg_advisory_unlock(1552863743)", &[]).await?;
        let o = waiting.join().unwrap();
        ensure(o.status.success() && text(&o).contains("Applied 001_t"), text(&o))?;
        drop(holder);
        server.drop_database(db).await;
        Ok(())
    })
}

fn lock_timeout_retried(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("lock_retry").await;
        db.client.batch_execute("CREATE TABLE t (id int)").await?;
        let work = Workdir::new();
        let up = "SET lock_timeout = '300ms';\nBEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n";
        write_migrations(&work, &[("001_c", up, "ALTER TABLE t DROP COLUMN c;\n")]);
        // Held throughout: tried 1 + lock_retries times, then the error names lock and holder.
        std::fs::write(work.path().join("schemadiff.toml"), "lock_retries = 1\n").unwrap();
        let holder = schemadiff::connect::connect_url(&db.url).await?;
        let pid: i32 = holder.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
        holder.batch_execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE").await?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        let out = text(&o);
        ensure(!o.status.success(), format!("apply got the lock: {out}"))?;
        ensure(
            out.contains("canceling statement due to lock timeout")
                && out.contains("it waited for AccessExclusiveLock on t lock, held by")
                && out.contains(&format!("pid {pid} (schemadiff"))
                && out.contains("tried 2 time(s)"),
            out.clone(),
        )?;
        // Let go while it waits: a retry gets the lock and the migration applies.
        std::fs::write(work.path().join("schemadiff.toml"), "lock_retries = 3\n").unwrap();
        let path = work.path().to_path_buf();
        let url = db.url.clone();
        let applying = std::thread::spawn(move || bin(&path, &["apply", "--database-url", &url]));
        tokio::time::sleep(Duration::from_millis(800)).await;
        holder.batch_execute("COMMIT").await?;
        let o = applying.join().unwrap();
        ensure(o.status.success() && text(&o).contains("Applied 001_c"), text(&o))?;
        let column = db
            .client
            .query_opt(
                "SELECT 1 FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'c'",
                &[],
            )
            .await?;
        ensure(column.is_some(), "column c was not added")?;
        drop(holder);
        server.drop_database(db).await;
        Ok(())
    })
}

/// A file in four parts: a transaction, a concurrent index build (with its clean-up), a
/// transaction, and a statement outside one. Each part writes a row (or builds the index),
/// so a part run twice or lost shows.
const FOUR_PARTS: &str = "SET lock_timeout = 0;\n\
BEGIN;\nINSERT INTO log0 VALUES (0);\nCOMMIT;\n\
DROP INDEX CONCURRENTLY IF EXISTS big_n;\n\
CREATE INDEX CONCURRENTLY IF NOT EXISTS big_n ON big (n);\n\
BEGIN;\nINSERT INTO log2 VALUES (2);\nALTER TABLE b ADD COLUMN c int;\nCOMMIT;\n\
INSERT INTO log3 VALUES (3);\n";

/// For each part, what another session does so that the part waits: then the run is killed.
const STALLS: [&str; 4] = [
    "BEGIN; LOCK TABLE log0 IN EXCLUSIVE MODE",
    // The build has made its (invalid) index and waits for this writer to finish.
    "BEGIN; INSERT INTO big VALUES (0)",
    "BEGIN; LOCK TABLE b IN ACCESS SHARE MODE",
    "BEGIN; LOCK TABLE log3 IN EXCLUSIVE MODE",
];

fn killed_at_each_part(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        for (part, stall) in STALLS.iter().enumerate() {
            let db = server.fresh_database(&format!("killed_{part}")).await;
            db.client
                .batch_execute(
                    "CREATE TABLE log0 (n int); CREATE TABLE log2 (n int); CREATE TABLE log3 (n int); \
                     CREATE TABLE b (id int); CREATE TABLE big (n int); \
                     INSERT INTO big SELECT generate_series(1, 1000)",
                )
                .await?;
            let work = Workdir::new();
            write_migrations(&work, &[("001_parts", FOUR_PARTS, "SELECT 1;\n")]);
            let holder = schemadiff::connect::connect_url(&db.url).await?;
            holder.batch_execute(stall).await?;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"))
                .args(["apply", "--database-url", &db.url])
                .current_dir(work.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()?;
            let waiting = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                           AND wait_event_type = 'Lock' AND application_name = 'schemadiff'";
            let started = Instant::now();
            while db.client.query(waiting, &[]).await?.is_empty() {
                ensure(
                    started.elapsed() < Duration::from_secs(20),
                    format!("part {part} never waited"),
                )?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            child.kill()?;
            child.wait()?;
            // The server would notice the dead client when it next writes; end its sessions
            // now, as a cancel or TCP keepalive would.
            db.client
                .batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
                     WHERE datname = current_database() AND application_name = 'schemadiff' \
                     AND pid NOT IN (pg_backend_pid(), {})",
                    holder.query_one("SELECT pg_backend_pid()", &[]).await?.get::<_, i32>(0)
                ))
                .await?;
            holder.batch_execute("COMMIT").await?;
            let row = db
                .client
                .query_one("SELECT status, groups_done FROM public.schemadiff_migrations WHERE version = 1", &[])
                .await?;
            let (status, done): (String, i32) = (row.get(0), row.get(1));
            ensure(
                status == "partial" && done == part as i32,
                format!("killed at part {part}: history says {status} with {done} parts done"),
            )?;
            let o = bin(work.path(), &["apply", "--database-url", &db.url]);
            ensure(
                o.status.success(),
                format!("the re-run after a kill at part {part}: {}", text(&o)),
            )?;
            let counts: Vec<i64> = db
                .client
                .query_one(
                    "SELECT (SELECT count(*) FROM log0), (SELECT count(*) FROM log2), (SELECT count(*) FROM log3), \
                     (SELECT count(*) FROM pg_index WHERE indexrelid = 'big_n'::regclass AND indisvalid), \
                     (SELECT count(*) FROM pg_attribute WHERE attrelid = 'b'::regclass AND attname = 'c')",
                    &[],
                )
                .await
                .map(|r| (0..5).map(|i| r.get(i)).collect())?;
            ensure(
                counts == [1, 1, 1, 1, 1],
                format!("killed at part {part}: {counts:?} (each part once, the index valid)"),
            )?;
            let row = db
                .client
                .query_one("SELECT status, groups_done FROM public.schemadiff_migrations WHERE version = 1", &[])
                .await?;
            ensure(
                row.get::<_, String>(0) == "applied",
                format!("killed at part {part}: not recorded applied"),
            )?;
            drop(holder);
            server.drop_database(db).await;
        }
        Ok(())
    })
}

/// Ctrl-C while a part waits for a lock: the server cancels the statement (nothing of the run
/// is left running), the message says what committed, and a re-run resumes after it.
fn ctrl_c_cancels(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("ctrl_c").await;
        db.client.batch_execute("CREATE TABLE log (n int); CREATE TABLE gate (n int)").await?;
        let work = Workdir::new();
        write_migrations(
            &work,
            &[
                ("001_first", "CREATE TABLE first (n int);\n", "DROP TABLE first;\n"),
                (
                    "002_gated",
                    "SET lock_timeout = 0;\nBEGIN;\nINSERT INTO log VALUES (1);\nCOMMIT;\n\
                     BEGIN;\nINSERT INTO log VALUES (2);\nLOCK TABLE gate IN ACCESS EXCLUSIVE MODE;\nCOMMIT;\n",
                    "DELETE FROM log;\n",
                ),
            ],
        );
        let holder = schemadiff::connect::connect_url(&db.url).await?;
        holder.batch_execute("BEGIN; LOCK TABLE gate IN ACCESS SHARE MODE").await?;
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"))
            .args(["apply", "--database-url", &db.url])
            .current_dir(work.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let running = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                       AND state = 'active' AND application_name = 'schemadiff' AND pid <> pg_backend_pid()";
        let waiting = format!("{running} AND wait_event_type = 'Lock'");
        let started = Instant::now();
        while db.client.query_one(&waiting, &[]).await?.get::<_, i64>(0) == 0 {
            ensure(started.elapsed() < Duration::from_secs(20), "the run never waited")?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status()?;
        let o = child.wait_with_output()?;
        let out = text(&o);
        // The server was asked to cancel: nothing of the run is still running on it.
        let left = db.client.query_one(running, &[]).await?.get::<_, i64>(0);
        ensure(
            left == 0,
            format!("{left} statement(s) of the run still run after it exited\n{out}"),
        )?;
        ensure(o.status.code() == Some(130), format!("exit {:?}: {out}", o.status.code()))?;
        for said in [
            "canceling statement due to user request",
            "002_gated.up.sql:",
            "1 of its 2 parts committed",
            "this run applied 001_first before it",
        ] {
            ensure(out.contains(said), format!("the message lacks {said:?}:\n{out}"))?;
        }
        holder.batch_execute("COMMIT").await?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        let rows: Vec<i32> = (db.client.query("SELECT n FROM log ORDER BY n", &[]).await?)
            .iter()
            .map(|r| r.get(0))
            .collect();
        ensure(rows == [1, 2], format!("log {rows:?}: each part once"))?;
        drop(holder);
        server.drop_database(db).await;
        Ok(())
    })
}

/// The repository's own example, embedded in this test binary at compile time.
static EXAMPLE: include_dir::Dir = include_dir::include_dir!("$CARGO_MANIFEST_DIR/generated");

/// `schemadiff::apply` as an application calls it at start-up: embedded migrations run up
/// to the rename's contract, a second start finds nothing, and a directory works alike.
fn library_apply(server: &TestServer) -> Result<(), Failed> {
    use schemadiff::migrations::Source;
    block_on(async {
        let db = server.fresh_database("library").await;
        let report = schemadiff::apply(&db.client, Source::Embedded(&EXAMPLE)).await?;
        let done: Vec<&str> = report.done.iter().map(|(id, _)| &id[..3]).collect();
        ensure(done == ["001", "002", "003", "004"], format!("{:?}", report.done))?;
        ensure(
            report.waiting.as_deref().is_some_and(|w| w.starts_with("005_contract")),
            format!("{:?}", report.waiting),
        )?;
        let again = schemadiff::apply(&db.client, Source::Embedded(&EXAMPLE)).await?;
        ensure(again.done.is_empty(), format!("{:?}", again.done))?;
        let applied: i64 = db
            .client
            .query_one(
                "SELECT count(*) FROM public.schemadiff_migrations WHERE status = 'applied'",
                &[],
            )
            .await?
            .get(0);
        ensure(applied == 4, format!("{applied} applied"))?;
        server.drop_database(db).await;

        let db = server.fresh_database("library_dir").await;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
        let report = schemadiff::apply(&db.client, Source::Dir(&dir)).await?;
        ensure(report.done.len() == 4, format!("{:?}", report.done))?;
        // A folder with a mistake is refused before anything runs.
        let work = Workdir::new();
        write_migrations(&work, &[("001_a", "CREATE TABLE a ();\n", "DROP TABLE a;\n")]);
        std::fs::remove_file(work.migrations_dir().join("001_a.down.sql"))?;
        let refused = schemadiff::apply(&db.client, Source::Dir(&work.migrations_dir())).await;
        ensure(
            refused.as_ref().is_err_and(|e| e.to_string().contains("001_a.down.sql is missing")),
            format!("{refused:?}"),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// A role without `CREATE` on `public` (PostgreSQL 15's default): the error carries
/// PostgreSQL's own message, not just "db error".
fn permission_message_shown(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("permission").await;
        db.client
            .batch_execute(
                "DO $$ BEGIN CREATE ROLE schemadiff_plain_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
                 REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            )
            .await?;
        let work = Workdir::new();
        write_migrations(&work, &[("001_t", "CREATE TABLE t (id int);\n", "DROP TABLE t;\n")]);
        let url =
            schemadiff::connect::parse(&db.url)?.with("user", "schemadiff_plain_app").to_string();
        let o = bin(work.path(), &["apply", "--database-url", &url]);
        ensure(
            o.status.code() == Some(1)
                && text(&o).contains(
                    "creating public.schemadiff_migrations: permission denied for schema public",
                ),
            text(&o),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// A server of its own whose lock table promises room for 320 locks (10 for each of 32
/// server processes; 10 is the least max_locks_per_transaction PostgreSQL allows).
/// A server of its own with 10 connections and `locks` per transaction in its lock table.
fn small_lock_table(locks: &str) -> Result<schemadiff::shadow::EphemeralCluster, Failed> {
    let bindir = schemadiff::shadow::find_bindir().ok_or("no local PostgreSQL binaries")?;
    Ok(schemadiff::shadow::EphemeralCluster::start_with(
        bindir,
        &[("max_locks_per_transaction", locks), ("max_connections", "10")],
    )?)
}

/// A transaction holds a lock on every object it makes until it commits, and a server's lock
/// table promises room for `max_locks_per_transaction` for each of its processes. On a server
/// that promises 320 (10 for each of 32), a plan of 200 new tables with their indexes says its
/// migration does not fit and what to set; `apply` then stops as it said (PostgreSQL 15 finds
/// room for about 1,100 there), and leaves nothing behind. A plan of 20 tables fits and says
/// nothing.
fn lock_table_too_small(_: &TestServer) -> Result<(), Failed> {
    let small = small_lock_table("10")?;
    let url = small.url("postgres");
    let tables = |n: usize| -> String {
        (0..n)
            .map(|i| {
                format!(
                    "CREATE TABLE t{i} (id int PRIMARY KEY, v int);\nCREATE INDEX ON t{i} (v);\n"
                )
            })
            .collect()
    };
    let work = Workdir::new();
    work.write_schema("tables.sql", &tables(20));
    let o = bin(work.path(), &["plan", "--dry-run", "--database-url", &url]);
    ensure(o.status.success(), text(&o))?;
    ensure(!text(&o).contains("lock table"), format!("20 tables fit: {}", text(&o)))?;

    work.write_schema("tables.sql", &tables(200));
    let o = bin(work.path(), &["plan", "--database-url", &url]);
    ensure(o.status.success(), text(&o))?;
    let out = text(&o);
    let note = out.lines().find(|l| l.contains("lock table")).ok_or(out.clone())?;
    ensure(
        note.contains("the lock table of the target promises room for 320 (max_locks_per_transaction 10 for each of 32 server processes)"),
        note.to_string(),
    )?;
    let held: u64 =
        note.split(" holds ").nth(1).and_then(|r| r.split(' ').next()).ok_or(note)?.parse()?;
    ensure(held > 320, format!("200 tables and their indexes hold {held} locks"))?;
    ensure(
        note.contains(&format!("Set max_locks_per_transaction to {} or more", held.div_ceil(32))),
        note.to_string(),
    )?;

    let o = bin(work.path(), &["apply", "--database-url", &url]);
    ensure(!o.status.success() && text(&o).contains("out of shared memory"), text(&o))?;
    block_on(async {
        let client = schemadiff::connect::connect_url(&url).await?;
        let row = client.query_one("SELECT count(*) FROM pg_class WHERE relname LIKE 't%' AND relnamespace = 'public'::regnamespace", &[]).await?;
        ensure(row.get::<_, i64>(0) == 0, "the failed migration left tables behind")
    })
}

/// A replay of `generated/` builds a state; it need not hold the locks of a whole migration
/// at once, and does not: on a dev server where one transaction can make about 1,100 tables
/// (psql stops at the 1,093rd with `max_locks_per_transaction` 20), `check` replays a
/// migration that makes 3,000 tables in one transaction, and a file that fails after its
/// first batches committed is still named at the line that fails. `check` loads `schema/` on
/// another session meanwhile, a batch at a time too: with room for about 550 tables (10), the
/// two sessions' batches of 256 did not always fit at once.
fn replay_commits_as_it_goes(_: &TestServer) -> Result<(), Failed> {
    let small = small_lock_table("20")?;
    let dev = small.url("postgres");
    let tables: String = (0..3000).map(|i| format!("CREATE TABLE t{i} (id int);\n")).collect();
    let work = Workdir::new();
    work.write_schema("tables.sql", &tables);
    let up = format!("BEGIN;\n\n{tables}\nCOMMIT;\n");
    write_migrations(&work, &[("001_tables", &up, "SELECT 1;\n")]);
    let o = bin(work.path(), &["check", "--dev-url", &dev]);
    ensure(o.status.success(), text(&o))?;

    let broken = up.replacen("CREATE TABLE t1500 ", "CREATE TABLE t5 ", 1);
    write_migrations(&work, &[("001_tables", &broken, "SELECT 1;\n")]);
    let o = bin(work.path(), &["check", "--dev-url", &dev]);
    ensure(
        !o.status.success()
            && text(&o).contains("001_tables.up.sql:1503:1: relation \"t5\" already exists"),
        text(&o),
    )?;
    Ok(())
}
