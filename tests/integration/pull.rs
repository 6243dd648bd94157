//! `schemadiff pull`: the schema it writes from a live database loads, and a plan against the
//! same database then finds nothing; shown for every real-world schema in the corpus, in both
//! layouts for one of them. A schema directory that already holds files is left alone.
//! `inspect` describes a database or a schema directory as JSON, Markdown and Mermaid.

use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::fixtures::load;
use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/realworld");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.join("schema.sql").exists()).collect())
        .unwrap_or_default();
    dirs.sort();
    let mut trials: Vec<Trial> = dirs
        .into_iter()
        .map(|dir| {
            let server = server.clone();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(format!("pull::realworld::{name}"), move || {
                let sql = std::fs::read_to_string(dir.join("schema.sql"))?;
                pulled_plans_nothing(&server, &name, &sql, false).map(|_| ())
            })
        })
        .collect();
    let s = server.clone();
    trials.push(Trial::test("pull::split_writes_a_file_per_object", move || split(&s)));
    let s = server.clone();
    trials.push(Trial::test("pull::leaves_a_schema_dir_with_files_alone", move || refuses(&s)));
    let s = server.clone();
    trials.push(Trial::test("inspect::json_markdown_and_mermaid", move || inspect(&s)));
    trials
}

/// Loads `sql`, pulls it, and plans against the same database; returns the work directory.
fn pulled_plans_nothing(
    server: &TestServer,
    name: &str,
    sql: &str,
    split: bool,
) -> Result<Workdir, Failed> {
    block_on(async {
        server.ensure_harness_roles().await;
        let db = server.fresh_database(&format!("pull_{name}")).await;
        load(&db.client, "schema.sql", sql).await?;
        let work = Workdir::new();
        let (url, dev) = (db.url.as_str(), server.admin_url());
        let mut pull = vec!["pull", "--database-url", url, "--dev-url", dev];
        if split {
            pull.push("--split");
        }
        let o = bin(work.path(), &pull);
        ensure(o.status.success(), format!("pull: {}", text(&o)))?;
        let o = bin(work.path(), &["plan", "--dry-run", "--database-url", url, "--dev-url", dev]);
        ensure(
            o.status.success() && text(&o).contains("No changes"),
            format!("plan after pull: {}", text(&o)),
        )?;
        server.drop_database(db).await;
        Ok(work)
    })
}

const SHOP: &str = "CREATE SCHEMA shop;\n\
    CREATE TYPE shop.state AS ENUM ('new', 'paid');\n\
    CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, state shop.state NOT NULL, placed timestamptz);\n\
    CREATE INDEX orders_placed ON shop.orders (placed);\n\
    COMMENT ON TABLE shop.orders IS 'one row per order';\n\
    CREATE TABLE shop.lines (order_id bigint REFERENCES shop.orders, sku text NOT NULL);\n\
    CREATE VIEW shop.open_orders AS SELECT id FROM shop.orders WHERE state = 'new';\n\
    CREATE EXTENSION IF NOT EXISTS citext;\n";

fn split(server: &TestServer) -> Result<(), Failed> {
    let work = pulled_plans_nothing(server, "split", SHOP, true)?;
    let schema = work.schema_dir();
    let read = |f: &str| std::fs::read_to_string(schema.join(f)).unwrap_or_default();
    let orders = read("shop/orders.sql");
    ensure(
        orders.contains("CREATE TABLE shop.orders")
            && orders.contains("CREATE INDEX orders_placed")
            && orders.contains("COMMENT ON TABLE shop.orders IS 'one row per order'"),
        format!("shop/orders.sql holds the table, its index and comment:\n{orders}"),
    )?;
    ensure(read("shop/_schema.sql").contains("CREATE SCHEMA shop"), "shop/_schema.sql")?;
    ensure(read("shop/state.sql").contains("CREATE TYPE shop.state"), "shop/state.sql")?;
    ensure(read("shop/open_orders.sql").contains("CREATE VIEW shop.open_orders"), "the view")?;
    ensure(read("_database.sql").contains("CREATE EXTENSION citext"), "the extension")?;

    // Adoption: the first migration from the pulled schema, recorded as applied.
    let dev = server.admin_url();
    let o = bin(work.path(), &["plan", "--name", "baseline", "--dev-url", dev]);
    ensure(o.status.success(), format!("plan --name baseline: {}", text(&o)))?;
    block_on(async {
        let db = server.fresh_database("pull_adopted").await;
        load(&db.client, "schema.sql", SHOP).await?;
        let o = bin(work.path(), &["baseline", "--database-url", &db.url, "--dev-url", dev]);
        ensure(o.status.success(), format!("baseline: {}", text(&o)))?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success() && !text(&o).contains("Applied"), text(&o))?;
        server.drop_database(db).await;
        Ok::<(), Failed>(())
    })?;
    Ok(())
}

fn refuses(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("pull_refuses").await;
        let work = Workdir::new();
        work.write_schema("mine.sql", "CREATE TABLE kept (id int);\n");
        let o =
            bin(work.path(), &["pull", "--database-url", &db.url, "--dev-url", server.admin_url()]);
        ensure(!o.status.success(), text(&o))?;
        ensure(
            text(&o).contains("already holds 1 .sql file(s)") && text(&o).contains("--force"),
            text(&o),
        )?;
        let kept = std::fs::read_to_string(work.schema_dir().join("mine.sql"))?;
        ensure(kept == "CREATE TABLE kept (id int);\n", "the file is untouched")?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn inspect(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("inspect").await;
        load(&db.client, "schema.sql", SHOP).await?;
        let work = Workdir::new();
        let dev = server.admin_url();
        let run = |format: &str| {
            bin(work.path(), &["inspect", &db.url, "--format", format, "--dev-url", dev])
        };
        let o = run("json");
        ensure(o.status.success(), text(&o))?;
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let map = &doc["map"];
        let shop = (map["schemas"].as_array().into_iter().flatten())
            .find(|s| s["name"] == "shop")
            .ok_or("no schema shop")?;
        let tables: Vec<&str> =
            shop["tables"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
        ensure(tables == ["lines", "orders"], format!("{tables:?}"))?;
        let lines = &shop["tables"][0];
        ensure(lines["constraints"][0]["references"] == "shop.orders", lines.to_string())?;
        ensure(shop["tables"][1]["comment"] == "one row per order", "the table's comment")?;
        ensure(shop["views"][0]["name"] == "open_orders", shop["views"].to_string())?;
        ensure(shop["enums"][0]["labels"] == serde_json::json!(["new", "paid"]), "enum labels")?;
        let edges = map["dependencies"].as_array().ok_or("no dependencies")?;
        ensure(
            edges.iter().any(|e| {
                let to = e["to"].as_str().unwrap_or("");
                e["from"] == "view shop.open_orders"
                    && (to == "table shop.orders" || to.starts_with("column shop.orders."))
            }),
            "the view depends on its table",
        )?;
        let o = run("mermaid");
        ensure(o.status.success(), text(&o))?;
        insta::assert_snapshot!("inspect_mermaid", String::from_utf8_lossy(&o.stdout));
        let o = run("markdown");
        ensure(o.status.success(), text(&o))?;
        insta::assert_snapshot!("inspect_markdown", String::from_utf8_lossy(&o.stdout));
        // A schema directory reads the same.
        work.write_schema("shop.sql", SHOP);
        let o = bin(work.path(), &["inspect", "schema", "--format", "mermaid", "--dev-url", dev]);
        ensure(o.status.success(), text(&o))?;
        insta::assert_snapshot!("inspect_mermaid", String::from_utf8_lossy(&o.stdout));
        server.drop_database(db).await;
        Ok(())
    })
}
