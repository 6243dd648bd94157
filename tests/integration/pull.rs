//! `schemadiff pull`: the schema it writes from a live database loads, and a plan against the
//! same database then finds nothing; shown for every real-world schema in the corpus, in both
//! layouts for one of them. A schema directory that already holds files is left alone.
//! `inspect` describes a database or a schema directory as JSON, Markdown and Mermaid.
//! `import` brings a hand-written migration folder of each layout, and the two real
//! migration histories, under schemadiff.

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
    for history in ["kratos_migrations", "lemmy_migrations"] {
        let (s, dir) = (server.clone(), root.join(history).join("migrations"));
        trials.push(Trial::test(format!("import::realworld::{history}"), move || {
            import_history(&s, history, &dir)
        }));
    }
    for (layout, files) in LAYOUTS {
        let s = server.clone();
        trials.push(Trial::test(format!("import::layout::{layout}"), move || {
            import_layout(&s, layout, files)
        }));
    }
    let s = server.clone();
    trials.push(Trial::test("import::pending_steps_after_the_tracking_table", move || {
        import_pending(&s)
    }));
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
        // A foreign key may point at a unique index that no constraint owns.
        db.client
            .batch_execute(
                "CREATE TABLE shop.codes (code text);
                 CREATE UNIQUE INDEX codes_code ON shop.codes (code);
                 CREATE TABLE shop.uses (code text REFERENCES shop.codes (code));",
            )
            .await?;
        let o = run("json");
        ensure(o.status.success(), text(&o))?;
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let uses = (doc["map"]["schemas"].as_array().into_iter().flatten())
            .flat_map(|s| s["tables"].as_array().into_iter().flatten())
            .find(|t| t["name"] == "uses")
            .ok_or("no table uses")?;
        ensure(uses["constraints"][0]["references"] == "shop.codes", uses.to_string())?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// Replays the up files of a real history as its project does (in name order; Diesel's
/// `up.sql` per directory), on the test's own loader, then imports the folder: the schema
/// written plans nothing against that database, and `baseline` accepts it.
fn import_history(server: &TestServer, name: &str, dir: &Path) -> Result<(), Failed> {
    let mut ups: Vec<std::path::PathBuf> = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            ups.push(path.join("up.sql"));
        } else if path.to_string_lossy().ends_with(".up.sql") {
            ups.push(path);
        }
    }
    block_on(async {
        server.ensure_harness_roles().await;
        let db = server.fresh_database(&format!("import_{name}")).await;
        for up in &ups {
            let sql = std::fs::read_to_string(up)?;
            load(&db.client, &up.display().to_string(), &sql).await?;
        }
        let work = Workdir::new();
        let (url, dev) = (db.url.as_str(), server.admin_url());
        let folder = dir.to_string_lossy();
        let o = bin(work.path(), &["import", &folder, "--dev-url", dev]);
        ensure(o.status.success(), format!("import: {}", text(&o)))?;
        ensure(text(&o).contains(&format!("Replayed the {} up steps", ups.len())), text(&o))?;
        ensure(work.migrations_dir().join("001_baseline.up.sql").exists(), "the baseline")?;
        // baseline checks that the database is what the baseline makes; then nothing is left.
        let o = bin(work.path(), &["baseline", "--database-url", url, "--dev-url", dev, "1"]);
        ensure(o.status.success(), format!("baseline: {}", text(&o)))?;
        let o = bin(work.path(), &["plan", "--dry-run", "--database-url", url, "--dev-url", dev]);
        ensure(
            o.status.success() && text(&o).contains("No changes"),
            format!("plan: {}", text(&o)),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// A folder of each layout: (path, SQL). Each makes tables a and b, b with a column added
/// by the second step.
const LAYOUTS: [(&str, &[(&str, &str)]); 6] = [
    (
        "numbered_with_down_files",
        &[
            ("001_create_a.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            ("001_create_a_down.sql", "DROP TABLE a;"),
            (
                "002_create_b.sql",
                "CREATE TABLE b (id int REFERENCES a);\nALTER TABLE b ADD COLUMN note text;",
            ),
            ("002_create_b_down.sql", "DROP TABLE b;"),
        ],
    ),
    (
        "dated_with_rollback_files",
        &[
            ("20230601_create_a.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            ("20230601_rollback_create_a.sql", "DROP TABLE a;"),
            (
                "20230715_create_b.sql",
                "BEGIN;\nCREATE TABLE b (id int REFERENCES a);\nALTER TABLE b ADD COLUMN note text;\nCOMMIT;",
            ),
            ("20230715_rollback_create_b.sql", "DROP TABLE b;"),
        ],
    ),
    (
        "diesel_directories",
        &[
            ("2023-06-01-000000_create_a/up.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            ("2023-06-01-000000_create_a/down.sql", "DROP TABLE a;"),
            (
                "2023-07-15-120000_create_b/up.sql",
                "CREATE TABLE b (id int REFERENCES a);\nALTER TABLE b ADD COLUMN note text;",
            ),
            ("2023-07-15-120000_create_b/down.sql", "DROP TABLE b;"),
        ],
    ),
    (
        "applied_and_pending_folders",
        &[
            ("applied/001_create_a.up.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            ("applied/001_create_a.down.sql", "DROP TABLE a;"),
            (
                "pending/002_create_b.up.sql",
                "CREATE TABLE b (id int REFERENCES a);\nALTER TABLE b ADD COLUMN note text;",
            ),
            ("pending/002_create_b.down.sql", "DROP TABLE b;"),
        ],
    ),
    (
        "down_behind_markers_and_in_comments",
        &[
            (
                "001_create_a.sql",
                "-- migrate:up\nCREATE TABLE a (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n",
            ),
            (
                "002_create_b.sql",
                "CREATE TABLE b (id int REFERENCES a);\nALTER TABLE b ADD COLUMN note text;\n-- Down:\n-- DROP TABLE b;\n",
            ),
        ],
    ),
    (
        "flyway",
        &[
            ("V1__create_a.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            (
                "V2__create_b.sql",
                "CREATE TABLE b (id int REFERENCES a);\nALTER TABLE b ADD COLUMN note text;",
            ),
            ("U2__create_b.sql", "DROP TABLE b;"),
        ],
    ),
];

const FINAL: &str =
    "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int REFERENCES a, note text);\n";

fn write_folder(root: &Path, files: &[(&str, &str)]) -> Result<(), Failed> {
    for (path, sql) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap())?;
        std::fs::write(p, sql)?;
    }
    Ok(())
}

fn import_layout(server: &TestServer, layout: &str, files: &[(&str, &str)]) -> Result<(), Failed> {
    let work = Workdir::new();
    let folder = work.path().join("migrations");
    write_folder(&folder, files)?;
    let dev = server.admin_url();
    let o = bin(work.path(), &["import", "migrations", "--dev-url", dev]);
    ensure(o.status.success(), format!("{layout}: {}", text(&o)))?;
    let pending = layout == "applied_and_pending_folders";
    ensure(
        text(&o).contains(&format!(
            "Replayed the 2 up steps of migrations in a shadow database ({} pending)",
            pending as u8
        )),
        text(&o),
    )?;
    let expected: &[&str] = match pending {
        true => &["001_baseline.up.sql", "002_pending_migrations.up.sql"],
        false => &["001_baseline.up.sql"],
    };
    for f in expected {
        ensure(work.migrations_dir().join(f).exists(), format!("{layout}: {f} written"))?;
    }
    block_on(async {
        let db = server.fresh_database(&format!("import_{layout}")).await;
        load(&db.client, "final.sql", FINAL).await?;
        let o = bin(work.path(), &["diff", &db.url, "schema", "--dev-url", dev]);
        ensure(
            o.status.success() && text(&o).contains("No changes"),
            format!("{layout}: {}", text(&o)),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// A database whose hand-made tracking table says it has run 001 and 002 of three: the
/// baseline reaches 002, the third step is a migration of its own, and after `baseline` an
/// `apply` runs it.
fn import_pending(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let folder = work.path().join("sql");
    write_folder(
        &folder,
        &[
            ("001_create_a.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            ("002_create_b.sql", "CREATE TABLE b (id int REFERENCES a);"),
            ("003_add_note.sql", "ALTER TABLE b ADD COLUMN note text;"),
        ],
    )?;
    block_on(async {
        let db = server.fresh_database("import_pending").await;
        load(
            &db.client,
            "live.sql",
            "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int REFERENCES a);\n\
             CREATE TABLE schema_versions (version text PRIMARY KEY, applied_at timestamptz DEFAULT now());\n\
             INSERT INTO schema_versions (version) VALUES ('001'), ('002');\n",
        )
        .await?;
        let (url, dev) = (db.url.as_str(), server.admin_url());
        let o = bin(work.path(), &["import", "sql", "--database-url", url, "--dev-url", dev]);
        ensure(o.status.success(), format!("import: {}", text(&o)))?;
        let said = text(&o);
        ensure(
            said.contains("(1 pending)")
                && said.contains("public.schema_versions: 2 applied, the latest 002"),
            said.clone(),
        )?;
        ensure(
            work.migrations_dir().join("002_pending_migrations.up.sql").exists(),
            "the pending step's migration",
        )?;
        let o = bin(work.path(), &["baseline", "--database-url", url, "--dev-url", dev, "1"]);
        ensure(o.status.success(), format!("baseline: {}", text(&o)))?;
        let o = bin(work.path(), &["apply", "--database-url", url]);
        ensure(
            o.status.success() && text(&o).contains("Applied 002_pending_migrations"),
            text(&o),
        )?;
        let note = db.client.query_one("SELECT count(*) FROM pg_attribute WHERE attrelid = 'b'::regclass AND attname = 'note'", &[]).await?;
        ensure(note.get::<_, i64>(0) == 1, "the pending step ran")?;
        server.drop_database(db).await;
        Ok(())
    })
}
