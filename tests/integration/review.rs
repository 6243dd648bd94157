//! Review in pull requests: `plan --format markdown` shows what a pull-request comment
//! should (each step's object, change, lock, table work and hazards, each hazard's reason, the
//! SQL, the files), snapshotted as a reviewer reads it.

use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::support::{TestServer, Workdir, bin, ensure, text};

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let s = server.clone();
    vec![
        Trial::test("review::plan_as_markdown_for_a_pull_request", move || markdown(&s)),
        Trial::test("review::markdown_is_only_for_plan", markdown_elsewhere),
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
    ensure(text(&o).contains("--format markdown is for `plan`"), text(&o))?;
    Ok(())
}
