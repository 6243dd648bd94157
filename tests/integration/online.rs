//! The online forms under load: while a migration builds an index concurrently and validates a
//! constraint on a table that a writer keeps inserting into, and an older transaction stays
//! open (which a concurrent build must wait for), the migration finishes and no insert waits
//! as long as `lock_timeout`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};

use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let server = server.clone();
    vec![Trial::test(
        "online::an_index_build_and_a_validation_under_writes_block_no_writer_for_lock_timeout",
        move || under_write_load(&server),
    )]
}

const TABLE: &str = "CREATE TABLE events (\n    id bigserial PRIMARY KEY,\n    account integer NOT NULL,\n    amount integer NOT NULL\n);\n";
const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

fn under_write_load(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("write_load").await;
        db.client.batch_execute(TABLE).await?;
        db.client
            .batch_execute(
                "INSERT INTO events (account, amount) SELECT g % 1000, g % 500 FROM generate_series(1, 200000) g",
            )
            .await?;
        work.write_schema(
            "events.sql",
            &format!(
                "{TABLE}CREATE INDEX events_account ON events (account);\n\
                 ALTER TABLE events ADD CONSTRAINT events_amount_positive CHECK (amount >= 0);\n"
            ),
        );
        std::fs::write(work.path().join("schemadiff.toml"), "lock_timeout = \"2s\"\n")?;
        let o = bin(
            work.path(),
            &[
                "plan",
                "--dev-url",
                server.admin_url(),
                "--database-url",
                &db.url,
                "--allow-hazards",
                "INDEX_BUILD,TABLE_SCAN",
            ],
        );
        ensure(o.status.success(), String::from_utf8_lossy(&o.stderr))?;
        let up = std::fs::read_dir(work.migrations_dir())?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(".up.sql"))
            .map(|e| std::fs::read_to_string(e.path()))
            .transpose()?
            .unwrap_or_default();
        ensure(
            up.contains("SET lock_timeout = '2s';") && up.contains("CREATE INDEX CONCURRENTLY"),
            up.clone(),
        )?;

        // A report holds its snapshot for longer than lock_timeout: a concurrent build waits
        // for it (and would give up at lock_timeout if that bounded the wait), and must do so
        // without making writers wait.
        let old = schemadiff::connect::connect_url(&db.url).await?;
        // It reads another table: a lock on events would rightly stop the brief ACCESS
        // EXCLUSIVE steps at lock_timeout, but its snapshot is what a build waits for.
        old.batch_execute("CREATE TABLE reports (id int)").await?;
        old.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM reports")
            .await
            .map_err(|e| format!("{e:?}"))?;
        let release = tokio::spawn(async move {
            tokio::time::sleep(LOCK_TIMEOUT * 2).await;
            let _ = old.batch_execute("COMMIT").await;
        });

        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            let url = db.url.clone();
            tokio::spawn(async move {
                let client = schemadiff::connect::connect_url(&url).await.expect("writer");
                let (mut inserts, mut slowest) = (0u64, Duration::ZERO);
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    client
                        .batch_execute("INSERT INTO events (account, amount) VALUES (7, 7)")
                        .await
                        .expect("insert");
                    slowest = slowest.max(started.elapsed());
                    inserts += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (inserts, slowest)
            })
        };
        let dir = work.path().to_path_buf();
        let url = db.url.clone();
        let applied = tokio::task::spawn_blocking(move || apply(&dir, &url)).await?;
        stop.store(true, Ordering::Relaxed);
        let (inserts, slowest) = writer.await?;
        release.await?;
        let (ok, output) = applied;
        ensure(ok, output)?;
        ensure(inserts > 20, format!("the writer got {inserts} inserts in"))?;
        ensure(
            slowest < LOCK_TIMEOUT,
            format!("an insert waited {slowest:?}, as long as lock_timeout ({LOCK_TIMEOUT:?})"),
        )?;
        let valid: bool = db
            .client
            .query_one(
                "SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_account'::regclass) \
                 AND (SELECT convalidated FROM pg_constraint WHERE conname = 'events_amount_positive')",
                &[],
            )
            .await
            .map_err(|e| format!("{e:?}"))?
            .get(0);
        ensure(valid, "the index is valid and the check validated")?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn apply(dir: &Path, url: &str) -> (bool, String) {
    let o = bin(dir, &["apply", "--database-url", url]);
    (o.status.success(), text(&o))
}
