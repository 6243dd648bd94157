//! Renames with data: a column renamed through expand and contract keeps every value, whether
//! written before the expand, through the old name or through the new one during it, and each
//! phase's down brings the previous shape back with its data.

use std::sync::Arc;

use libtest_mimic::{Failed, Trial};
use tokio_postgres::Client;

use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

type TestFn = fn(&TestServer) -> Result<(), Failed>;

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let tests: Vec<(&str, TestFn)> = vec![
        ("a_column_renamed_through_expand_and_contract_keeps_every_value", column_expand_contract),
        ("a_renamed_table_is_written_through_its_old_name_until_the_contract", table_alias),
        ("a_stale_rename_annotation_is_a_note", stale_annotation),
    ];
    tests
        .into_iter()
        .map(|(name, f)| {
            let server = server.clone();
            Trial::test(format!("renames::{name}"), move || f(&server))
        })
        .collect()
}

fn run(work: &Workdir, args: &[&str]) -> Result<String, Failed> {
    let o = bin(work.path(), args);
    ensure(o.status.success(), format!("schemadiff {}: {}", args.join(" "), text(&o)))?;
    Ok(text(&o))
}

async fn one(client: &Client, sql: &str) -> Result<String, Failed> {
    let rows = client.simple_query(sql).await?;
    for m in rows {
        if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
            return Ok(r.get(0).unwrap_or("NULL").to_string());
        }
    }
    Err(format!("no row from {sql}").into())
}

const BEFORE: &str = "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    full_name text NOT NULL,\n    email text\n);\nCREATE INDEX contacts_full_name ON contacts (full_name);\n";
const AFTER: &str = "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    -- schemadiff:renamed-from full_name\n    name text NOT NULL,\n    email text\n);\nCREATE INDEX contacts_name ON contacts (name);\n";

fn column_expand_contract(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("rename_column").await;
        let c = &db.client;
        c.batch_execute(BEFORE).await?;
        c.batch_execute(
            "INSERT INTO contacts SELECT g, 'contact ' || g FROM generate_series(1, 3000) g",
        )
        .await?;
        work.write_schema("contacts.sql", AFTER);
        let dev = server.admin_url();
        let url = db.url.as_str();
        let base = ["--dev-url", dev, "--database-url", url];

        // Without the hazards allowed the plan names the backfill and writes nothing.
        let o = bin(work.path(), &[&["plan"], &base[..]].concat());
        ensure(!o.status.success() && text(&o).contains("DATA_BACKFILL"), text(&o))?;
        ensure(!work.migrations_dir().exists(), "a refused plan writes nothing")?;
        let allow = ["--allow-hazards", "DATA_BACKFILL,TABLE_SCAN,INDEX_BUILD,INDEX_DROPPED"];
        run(&work, &[&["plan"], &base[..], &allow[..]].concat())?;
        let written: Vec<String> = std::fs::read_dir(work.migrations_dir())?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".up.sql"))
            .collect();
        let mut written = written;
        written.sort();
        ensure(
            written
                == [
                    "001_expand_rename_full_name_to_name_in_contacts.up.sql",
                    "002_contract_rename_full_name_to_name_in_contacts.up.sql",
                ],
            format!("{written:?}"),
        )?;

        // apply stops before the contract and says how to run it.
        let out = run(&work, &["apply", "--database-url", url])?;
        ensure(
            out.contains("Applied 001_expand") && out.contains("Waiting: 002_contract"),
            out.clone(),
        )?;
        let status = run(&work, &["status", "--database-url", url])?;
        ensure(
            status.contains("002_contract_rename_full_name_to_name_in_contacts  pending contract"),
            status,
        )?;

        // Rows from before the expand hold their values under both names.
        let unequal = "SELECT count(*) FROM contacts WHERE name IS DISTINCT FROM full_name";
        ensure(one(c, unequal).await? == "0", "backfilled rows differ")?;
        ensure(one(c, "SELECT name FROM contacts WHERE id = 3000").await? == "contact 3000", "")?;
        // Old code writes the old name; new code the new one. Each shows up in the other.
        c.batch_execute(
            "INSERT INTO contacts (id, full_name) VALUES (5001, 'written by old code');\
             UPDATE contacts SET full_name = 'changed by old code' WHERE id = 1;\
             INSERT INTO contacts (id, name) VALUES (5002, 'written by new code');\
             UPDATE contacts SET name = 'changed by new code' WHERE id = 2;",
        )
        .await?;
        for (id, value) in [
            (5001, "written by old code"),
            (1, "changed by old code"),
            (5002, "written by new code"),
            (2, "changed by new code"),
        ] {
            let both =
                one(c, &format!("SELECT name || '|' || full_name FROM contacts WHERE id = {id}"))
                    .await?;
            ensure(both == format!("{value}|{value}"), format!("row {id}: {both}"))?;
        }
        ensure(one(c, unequal).await? == "0", "writes during the expand differ")?;

        // The contract drops the old column; every value is under the new name.
        let out = run(&work, &["apply", "--database-url", url, "--contract"])?;
        ensure(out.contains("Applied 002_contract"), out)?;
        let gone = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'contacts' AND column_name = 'full_name'";
        ensure(one(c, gone).await? == "0", "the old column is gone")?;
        let kept = "SELECT count(*) FROM contacts WHERE name = 'contact ' || id";
        ensure(one(c, kept).await? == "2998", "rows kept their values")?;
        ensure(one(c, "SELECT count(*) FROM contacts").await? == "3002", "no row lost")?;
        ensure(
            one(c, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").await? == "0",
            "the sync trigger is gone",
        )?;
        let again = run(&work, &["plan", "--dev-url", dev, "--database-url", url])?;
        ensure(again.contains("No changes"), again)?;

        // The contract's down brings the old column back with the values.
        run(&work, &["down", "--database-url", url, "1"])?;
        ensure(one(c, unequal).await? == "0", "down of the contract fills the old column")?;
        ensure(
            one(c, "SELECT full_name FROM contacts WHERE id = 5002").await?
                == "written by new code",
            "",
        )?;
        // The expand's down leaves the old shape, with what was written meanwhile.
        run(&work, &["down", "--database-url", url, "1"])?;
        let new_gone = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'contacts' AND column_name = 'name'";
        ensure(one(c, new_gone).await? == "0", "the new column is gone")?;
        ensure(
            one(c, "SELECT full_name FROM contacts WHERE id = 2").await? == "changed by new code",
            "",
        )?;
        let null = "SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attname = 'full_name'";
        ensure(one(c, null).await? == "true", "full_name is NOT NULL again")?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn table_alias(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("rename_table").await;
        let c = &db.client;
        c.batch_execute(
            "CREATE TABLE people (id bigint PRIMARY KEY, name text NOT NULL);\
             INSERT INTO people VALUES (1, 'a'), (2, 'b');",
        )
        .await?;
        work.write_schema(
            "contacts.sql",
            "-- schemadiff:renamed-from people\nCREATE TABLE contacts (id bigint PRIMARY KEY, name text NOT NULL);\n",
        );
        let url = db.url.as_str();
        run(&work, &["plan", "--dev-url", server.admin_url(), "--database-url", url])?;
        // With contract_after, apply runs a contract once its expand is that old, and not before.
        let toml = work.path().join("schemadiff.toml");
        std::fs::write(&toml, "contract_after = \"1h\"\n")?;
        let out = run(&work, &["apply", "--database-url", url])?;
        ensure(
            out.contains("Waiting: 002_contract")
                && out.contains("(or it runs by itself 1h after its expand)"),
            out,
        )?;
        // Code that still uses the old name reads and writes through the view.
        c.batch_execute(
            "INSERT INTO people VALUES (3, 'c'); UPDATE people SET name = 'z' WHERE id = 1",
        )
        .await?;
        ensure(
            one(c, "SELECT string_agg(name, ',' ORDER BY id) FROM contacts").await? == "z,b,c",
            "",
        )?;
        std::fs::write(&toml, "contract_after = \"0s\"\n")?;
        let out = run(&work, &["apply", "--database-url", url])?;
        ensure(out.contains("Applied 002_contract"), out)?;
        ensure(one(c, "SELECT to_regclass('people') IS NULL").await? == "t", "the view is gone")?;
        run(&work, &["down", "--database-url", url, "2"])?;
        ensure(one(c, "SELECT count(*) FROM people").await? == "3", "down renames it back")?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn stale_annotation(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("rename_stale").await;
        db.client.batch_execute("CREATE TABLE contacts (id bigint PRIMARY KEY)").await?;
        work.write_schema(
            "contacts.sql",
            "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    -- schemadiff:renamed-from nickname\n    alias text\n);\n",
        );
        let out =
            run(&work, &["plan", "--dev-url", server.admin_url(), "--database-url", &db.url])?;
        ensure(
            out.contains("contacts.sql:3:5: `renamed-from nickname`: the database has no column public.contacts.nickname; the annotation is ignored")
                && out.contains("ADD COLUMN alias text"),
            out,
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}
