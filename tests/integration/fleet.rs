//! `apply` and `status` over a fleet: many databases, one folder, a bounded number at a time.

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};

use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

type Case = fn(&TestServer) -> Result<(), Failed>;

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        ("fifty_databases_killed_half_way_are_finished_by_the_next_run", fifty_killed_half_way),
        ("a_failing_target_stops_the_fleet_unless_asked_to_keep_going", failing_target),
        ("a_bad_targets_file_is_refused_with_its_line", bad_targets_file),
    ];
    cases
        .into_iter()
        .map(|(name, f)| {
            let server = server.clone();
            Trial::test(format!("fleet::{name}"), move || f(&server))
        })
        .collect()
}

/// Three migrations; the second is slow and not idempotent (a second run of it would leave a
/// second row), so a fleet run can be killed in the middle of it.
fn write_migrations(work: &Workdir) {
    let dir = work.migrations_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        ("001_runs", "CREATE TABLE runs (n int);\n", "DROP TABLE runs;\n"),
        (
            "002_slow",
            "SELECT pg_sleep(0.3);\nINSERT INTO runs VALUES (2);\n",
            "DELETE FROM runs;\n",
        ),
        ("003_more", "INSERT INTO runs VALUES (3);\n", "DELETE FROM runs WHERE n = 3;\n"),
    ];
    for (name, up, down) in files {
        std::fs::write(dir.join(format!("{name}.up.sql")), up).unwrap();
        std::fs::write(dir.join(format!("{name}.down.sql")), down).unwrap();
    }
    let all = schemadiff::migrations::read_dir(&dir).unwrap();
    std::fs::write(dir.join("schemadiff.sum"), schemadiff::migrations::sum_text(&all)).unwrap();
}

/// `n` new databases (their names and URLs; the test's own sessions are closed).
async fn databases(server: &TestServer, label: &str, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let db = server.fresh_database(&format!("{label}_{i}")).await;
        out.push((db.name.clone(), db.url.clone()));
    }
    out
}

async fn drop_all(server: &TestServer, dbs: &[(String, String)]) {
    let admin = schemadiff::connect::connect_url(server.admin_url()).await.unwrap();
    for (name, _) in dbs {
        let _ =
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    }
}

/// What a database has: the versions its history records applied, and the rows of `runs`.
async fn contents(url: &str) -> Result<(Vec<i32>, Vec<i32>), Failed> {
    let client = schemadiff::connect::connect_url(url).await?;
    let has_history: bool = client
        .query_one("SELECT to_regclass('public.schemadiff_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !has_history {
        return Ok((Vec::new(), Vec::new()));
    }
    let applied = client
        .query("SELECT version FROM schemadiff_migrations WHERE status = 'applied' ORDER BY 1", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let has_runs: bool =
        client.query_one("SELECT to_regclass('public.runs') IS NOT NULL", &[]).await?.get(0);
    let rows = match has_runs {
        true => client
            .query("SELECT n FROM runs ORDER BY n", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect(),
        false => Vec::new(),
    };
    Ok((applied, rows))
}

fn write_targets(work: &Workdir, dbs: &[(String, String)]) -> String {
    let mut file = String::from("# the tenants\n\n");
    for (_, url) in dbs {
        file.push_str(url);
        file.push('\n');
    }
    std::fs::write(work.path().join("targets.txt"), file).unwrap();
    "targets.txt".to_string()
}

/// Fifty databases in one run, killed (`kill -9`) once about half have finished: each target
/// is left whole at some version, and the next run takes every one to the last, running each
/// migration once per database.
fn fifty_killed_half_way(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let dbs = databases(server, "fleet", 50).await;
        let work = Workdir::new();
        write_migrations(&work);
        let targets = write_targets(&work, &dbs);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"))
            .args(["apply", "--targets", &targets, "--parallel", "8"])
            .current_dir(work.path())
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        // Each target says so when it is done; read until half are.
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let started = Instant::now();
        let mut finished = 0;
        for line in lines {
            if line?.contains(": applied 001_runs, 002_slow, 003_more") {
                finished += 1;
            }
            if finished == 25 || started.elapsed() > Duration::from_secs(60) {
                break;
            }
        }
        child.kill()?;
        child.wait()?;
        ensure(finished == 25, format!("only {finished} targets finished before the kill"))?;
        // The server would notice the dead client when it next writes; end its sessions now,
        // as a cancel or TCP keepalive would.
        let admin = schemadiff::connect::connect_url(server.admin_url()).await?;
        let names: Vec<String> = dbs.iter().map(|(n, _)| n.clone()).collect();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
                 WHERE datname = ANY($1) AND application_name = 'schemadiff'",
                &[&names],
            )
            .await?;
        let mut whole = 0;
        for (name, url) in &dbs {
            let (applied, rows) = contents(url).await?;
            // Every migration runs in one transaction: a killed one left nothing behind.
            let expected_rows: Vec<i32> = applied.iter().copied().filter(|v| *v > 1).collect();
            ensure(
                rows == expected_rows,
                format!("{name} after the kill: applied {applied:?} but rows {rows:?}"),
            )?;
            whole += usize::from(applied == [1, 2, 3]);
        }
        ensure(
            (25..50).contains(&whole),
            format!("{whole} of 50 were at the last migration when killed half-way"),
        )?;

        let o = bin(work.path(), &["apply", "--targets", &targets, "--parallel", "8"]);
        ensure(o.status.success(), format!("the re-run: {}", text(&o)))?;
        let out = text(&o);
        ensure(
            out.contains(&format!("{whole} up to date")),
            format!("the re-run should count the {whole} targets it had nothing to do for:\n{out}"),
        )?;
        for (name, url) in &dbs {
            let (applied, rows) = contents(url).await?;
            ensure(
                applied == [1, 2, 3] && rows == [2, 3],
                format!("{name} after the re-run: applied {applied:?}, rows {rows:?}"),
            )?;
        }
        let o = bin(work.path(), &["status", "--targets", &targets, "--format", "json"]);
        ensure(o.status.success(), format!("fleet status: {}", text(&o)))?;
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let at: Vec<&str> = (doc["targets"].as_array().into_iter().flatten())
            .filter_map(|t| t["at"].as_str())
            .collect();
        ensure(
            at.len() == 50 && at.iter().all(|v| *v == "003_more"),
            format!("fleet status should show all 50 at 003_more: {doc}"),
        )?;
        drop_all(server, &dbs).await;
        Ok(())
    })
}

/// The second of four targets already has the table the first migration makes. Without
/// `--keep-going` the run stops there (the targets after it are not started) and fails;
/// `status` shows the fleet; with `--keep-going` the others are migrated.
fn failing_target(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let dbs = databases(server, "fleet_fail", 4).await;
        let client = schemadiff::connect::connect_url(&dbs[1].1).await?;
        client.batch_execute("CREATE TABLE runs (n text)").await?;
        drop(client);
        let work = Workdir::new();
        write_migrations(&work);
        let urls: Vec<&str> = dbs.iter().flat_map(|(_, url)| ["--database-url", url]).collect();
        let args = |extra: &[&'static str]| {
            let mut a: Vec<&str> = vec!["apply", "--parallel", "1"];
            a.extend(extra);
            a.extend(&urls);
            a
        };
        let o = bin(work.path(), &args(&[]));
        let out = text(&o);
        ensure(!o.status.success(), format!("a fleet with a failed target must fail:\n{out}"))?;
        for (want, why) in [
            (format!("{} on", dbs[0].0), "the first target"),
            ("FAILED".to_string(), "the failure"),
            ("relation \"runs\" already exists".to_string(), "PostgreSQL's reason"),
            ("2 not started".to_string(), "the targets after it"),
        ] {
            ensure(out.contains(&want), format!("{why} should be named ({want}):\n{out}"))?;
        }
        let versions = |i: usize| {
            let url = dbs[i].1.clone();
            async move { contents(&url).await.map(|(v, _)| v) }
        };
        ensure(versions(0).await? == [1, 2, 3], "the first target is migrated")?;
        ensure(versions(2).await?.is_empty(), "the third target is not started")?;

        let mut status: Vec<&str> = vec!["status", "--targets", "targets.txt"];
        write_targets(&work, &dbs);
        status.extend(["--format", "json"]);
        let o = bin(work.path(), &status);
        ensure(
            !o.status.success(),
            format!("fleet status with a failure must fail: {}", text(&o)),
        )?;
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let t = &doc["targets"];
        ensure(
            t[0]["at"] == "003_more"
                && t[1]["troubles"][0].as_str().is_some_and(|s| s.starts_with("001_runs failed"))
                && t[2]["pending"].as_array().map(Vec::len) == Some(3),
            format!("fleet status: {doc}"),
        )?;

        let o = bin(work.path(), &args(&["--keep-going"]));
        let out = text(&o);
        ensure(!o.status.success(), format!("still one failed target:\n{out}"))?;
        for i in [0, 2, 3] {
            ensure(versions(i).await? == [1, 2, 3], format!("target {i} migrated:\n{out}"))?;
        }
        drop_all(server, &dbs).await;
        Ok(())
    })
}

/// A line of the targets file that is not a connection string stops the run before any
/// target is touched, naming the file and line; so does a database listed twice.
fn bad_targets_file(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let dbs = databases(server, "fleet_bad", 1).await;
        let work = Workdir::new();
        write_migrations(&work);
        let url = &dbs[0].1;
        std::fs::write(work.path().join("targets.txt"), format!("{url}\nhost='unclosed\n"))?;
        let o = bin(work.path(), &["apply", "--targets", "targets.txt"]);
        ensure(
            !o.status.success()
                && text(&o).contains("targets.txt:2: not a valid connection string"),
            format!("a bad line: {}", text(&o)),
        )?;
        std::fs::write(work.path().join("targets.txt"), format!("{url}\n\n{url}\n"))?;
        let o = bin(work.path(), &["apply", "--targets", "targets.txt"]);
        ensure(
            !o.status.success()
                && text(&o).contains("targets.txt:3:")
                && text(&o).contains("already a target"),
            format!("a database twice: {}", text(&o)),
        )?;
        ensure(contents(url).await?.0.is_empty(), "nothing was applied")?;
        drop_all(server, &dbs).await;
        Ok(())
    })
}
