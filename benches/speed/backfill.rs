//! The batched backfill of a column rename (the expand) on a large table, beside the one
//! `UPDATE` a hand-written migration would run: rows per second, and the longest a writer
//! updating random rows meanwhile waits for one statement.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use schemadiff::shadow::EphemeralCluster;

use crate::measure::Runner;

const BEFORE: &str =
    "CREATE TABLE contacts (id bigint PRIMARY KEY, full_name text NOT NULL, email text);\n";
const AFTER: &str = "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    -- schemadiff:renamed-from full_name\n    name text NOT NULL,\n    email text\n);\n";

pub struct BackfillResult {
    pub rows: usize,
    pub expand: Run,
    pub single_update: Run,
}

pub struct Run {
    pub time: Duration,
    pub writes: u64,
    pub longest_write: Duration,
}

impl BackfillResult {
    pub fn print(&self) {
        println!(
            "\nbackfill of a renamed column, {} rows, a writer updating random rows meanwhile",
            self.rows
        );
        println!(
            "{:<44} {:>9} {:>11} {:>9} {:>13}",
            "", "seconds", "rows/s", "writes", "longest write"
        );
        for (name, run) in [
            ("schemadiff apply: expand (batched backfill)", &self.expand),
            ("one UPDATE in one transaction", &self.single_update),
        ] {
            println!(
                "{name:<44} {:>9.2} {:>11.0} {:>9} {:>11.3} s",
                run.time.as_secs_f64(),
                self.rows as f64 / run.time.as_secs_f64(),
                run.writes,
                run.longest_write.as_secs_f64()
            );
        }
    }
}

pub fn measure(
    runner: &Runner,
    cluster: &EphemeralCluster,
    work: &Path,
    rows: usize,
) -> BackfillResult {
    let fill = format!(
        "{BEFORE}INSERT INTO contacts SELECT g, 'contact ' || g, 'c' || g || '@example.com' FROM generate_series(1, {rows}) g;"
    );
    let (batched, single) = ("backfill_batched", "backfill_single");
    for db in [batched, single] {
        runner.recreate_database(db);
        runner.psql(db, &fill);
        runner.psql(db, "VACUUM ANALYZE contacts");
    }

    // The expand as schemadiff plans it, applied by `schemadiff apply`.
    let repo = crate::repo_with(work, "backfill", AFTER);
    let url = cluster.url(batched);
    runner.schemadiff(
        &repo,
        &["plan", "--allow-hazards", crate::ALL_HAZARDS, "--database-url", &url],
    );
    let writer = Writer::start(&url, rows);
    let start = Instant::now();
    runner.schemadiff(&repo, &["apply", "--database-url", &url]);
    let expand = writer.stop(start.elapsed());

    // The same column filled by one statement, the column added beforehand.
    runner.psql(single, "ALTER TABLE contacts ADD COLUMN name text");
    let writer = Writer::start(&cluster.url(single), rows);
    let start = Instant::now();
    runner.psql(single, "UPDATE contacts SET name = full_name");
    let single_update = writer.stop(start.elapsed());

    for db in [batched, single] {
        runner.drop_database(db);
    }
    BackfillResult { rows, expand, single_update }
}

/// Updates random rows on a connection of its own until stopped, timing each statement.
struct Writer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, Duration)>,
}

impl Writer {
    fn start(url: &str, rows: usize) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, flag) = (url.to_string(), stop.clone());
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let client = schemadiff::connect::connect_url(&url).await.unwrap();
                let update = client
                    .prepare("UPDATE contacts SET email = email WHERE id = $1")
                    .await
                    .unwrap();
                ready_tx.send(()).unwrap();
                let (mut writes, mut longest) = (0u64, Duration::ZERO);
                // A fixed sequence of ids, the same in both runs.
                let mut x: u64 = 88172645463325252;
                while !flag.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let id = (x % rows as u64) as i64 + 1;
                    let t = Instant::now();
                    client.execute(&update, &[&id]).await.unwrap();
                    longest = longest.max(t.elapsed());
                    writes += 1;
                }
                (writes, longest)
            })
        });
        ready.recv().expect("the writer connects");
        Writer { stop, thread }
    }

    fn stop(self, time: Duration) -> Run {
        self.stop.store(true, Ordering::Relaxed);
        let (writes, longest_write) = self.thread.join().unwrap();
        Run { time, writes, longest_write }
    }
}
