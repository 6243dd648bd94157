//! Review in pull requests: `plan --format markdown` shows what a pull-request comment
//! should (each step's object, change, lock, table work and hazards, each hazard's reason, the
//! SQL, the files), snapshotted as a reviewer reads it; `diff FROM TO` between databases,
//! schema directories and migrations directories; and the README's pull-request gate.

use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::fixtures::load;
use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let s = server.clone();
    vec![
        Trial::test("review::plan_as_markdown_for_a_pull_request", move || markdown(&s)),
        Trial::test("review::markdown_is_only_for_plan_and_diff", markdown_elsewhere),
        {
            let s = server.clone();
            Trial::test("review::diff_between_any_two_states", move || diff(&s))
        },
        {
            let s = server.clone();
            Trial::test("review::the_pull_request_gate_of_the_readme", move || gate(&s))
        },
    ]
}

const ORDERS_V1: &str = "CREATE TABLE orders (\n    id bigint PRIMARY KEY,\n    placed timestamptz NOT NULL,\n    note text\n);\n";
const ORDERS_V2: &str = "CREATE TABLE orders (\n    id bigint PRIMARY KEY,\n    placed timestamptz NOT NULL,\n    state text NOT NULL DEFAULT 'new'\n);\nCREATE INDEX orders_placed ON orders (placed);\nCOMMENT ON TABLE orders IS 'one row per order';\n";

fn markdown(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let dev = server.admin_url();
    work.write_schema("orders.sql", ORDERS_V1);
    let o = bin(work.path(), &["plan", "--dev-url", dev]);
    ensure(o.status.success(), text(&o))?;
    work.write_schema("orders.sql", ORDERS_V2);
    let args = ["plan", "--format", "markdown", "--dev-url", dev];
    let allow = ["--allow-hazards", "INDEX_BUILD,DELETES_DATA"];
    let o = bin(work.path(), &[&args[..], &allow[..]].concat());
    ensure(o.status.success(), text(&o))?;
    insta::assert_snapshot!("review_plan_markdown", String::from_utf8_lossy(&o.stdout));
    // Nothing left to plan reads as such.
    let o = bin(work.path(), &args);
    ensure(
        o.status.success()
            && String::from_utf8_lossy(&o.stdout)
                .contains("No changes: the database matches `schema`."),
        text(&o),
    )?;
    Ok(())
}

fn markdown_elsewhere() -> Result<(), Failed> {
    let work = Workdir::new();
    let o = bin(work.path(), &["status", "--format", "markdown"]);
    ensure(o.status.code() == Some(2), text(&o))?;
    ensure(text(&o).contains("--format markdown is for `plan`, `diff` and `inspect`"), text(&o))?;
    let o = bin(work.path(), &["plan", "--format", "mermaid"]);
    ensure(
        o.status.code() == Some(2) && text(&o).contains("--format mermaid is for `inspect`"),
        text(&o),
    )?;
    Ok(())
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn diff(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let dev = server.admin_url();
    work.write_schema("orders.sql", ORDERS_V1);
    ensure(bin(work.path(), &["plan", "--dev-url", dev]).status.success(), "plan v1")?;
    work.write_schema("orders.sql", ORDERS_V2);
    let run = |from: &str, to: &str| bin(work.path(), &["diff", from, to, "--dev-url", dev]);

    // Migrations to schema: what the next plan would write, written nowhere.
    let o = run("generated", "schema");
    ensure(o.status.success(), text(&o))?;
    let up = stdout(&o);
    ensure(
        up.contains("ALTER TABLE public.orders ADD COLUMN state text")
            && up.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_placed"),
        up.clone(),
    )?;
    ensure(std::fs::read_dir(work.migrations_dir())?.count() == 3, "diff writes no file")?;
    // And back, from a schema file to migrations.
    let o = run("schema/orders.sql", "generated");
    ensure(
        o.status.success() && stdout(&o).contains("ALTER TABLE public.orders ADD COLUMN note text"),
        text(&o),
    )?;
    ensure(
        stdout(&run("generated", "generated")).contains("No changes"),
        "a state matches itself",
    )?;

    // A database on either side.
    block_on(async {
        let db = server.fresh_database("diff_live").await;
        load(&db.client, "v1.sql", ORDERS_V1).await?;
        let o = run(&db.url, "schema");
        ensure(o.status.success() && stdout(&o).contains("ADD COLUMN state"), text(&o))?;
        let o = run("generated", &db.url);
        ensure(o.status.success() && stdout(&o).contains("No changes"), text(&o))?;
        let o =
            bin(work.path(), &["diff", &db.url, "schema", "--dev-url", dev, "--format", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        ensure(
            doc["migrations"][0]["steps"].as_array().is_some_and(|s| s.len() == 4),
            doc.to_string(),
        )?;
        server.drop_database(db).await;
        // From a live database to migrations: verified in the replayed state, down first.
        let empty = server.fresh_database("diff_empty").await;
        let o = run(&empty.url, "generated");
        ensure(o.status.success() && stdout(&o).contains("CREATE TABLE public.orders"), text(&o))?;
        server.drop_database(empty).await;
        Ok::<(), Failed>(())
    })?;
    let o = run("no/such/dir", "schema");
    ensure(
        o.status.code() == Some(2) && text(&o).contains("no/such/dir: no such file or directory"),
        text(&o),
    )?;
    Ok(())
}

/// The workflow the README shows: `check` fails a pull request whose generated/ lags
/// schema/, and the comment is the diff from the base branch's migrations to its schema.
fn gate(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let dev = server.admin_url();
    work.write_schema("orders.sql", ORDERS_V1);
    ensure(bin(work.path(), &["plan", "--dev-url", dev]).status.success(), "main's plan")?;
    // The base branch's migrations, as the workflow checks them out.
    let base = work.path().join("base-generated");
    std::fs::create_dir_all(&base)?;
    for entry in std::fs::read_dir(work.migrations_dir())? {
        let entry = entry?;
        std::fs::copy(entry.path(), base.join(entry.file_name()))?;
    }
    // The pull request changes schema/ but forgets to plan: the gate fails.
    work.write_schema("orders.sql", ORDERS_V2);
    let o = bin(work.path(), &["check", "--dev-url", dev]);
    ensure(!o.status.success(), format!("check passes a stale generated/: {}", text(&o)))?;
    // Planned and committed: the gate passes and the comment shows the new migration.
    let allow = "INDEX_BUILD,DELETES_DATA";
    ensure(
        bin(work.path(), &["plan", "--dev-url", dev, "--allow-hazards", allow]).status.success(),
        "plan",
    )?;
    let o = bin(work.path(), &["check", "--dev-url", dev]);
    ensure(o.status.success(), text(&o))?;
    let o = bin(
        work.path(),
        &["diff", "base-generated", "schema", "--format", "markdown", "--dev-url", dev],
    );
    ensure(o.status.success(), text(&o))?;
    let comment = stdout(&o);
    ensure(
        comment.starts_with("## schemadiff diff")
            && comment.contains("| index public.orders_placed | create |")
            && comment.contains("- `DELETES_DATA` (step 1): drops column public.orders.note"),
        comment,
    )?;
    Ok(())
}
