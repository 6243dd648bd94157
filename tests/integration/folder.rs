//! The migrations folder as a team's repository leaves it: CRLF checkouts, a deleted or
//! edited file, a gap, a lost down file, and two branches that each added the next number.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::support::{TestServer, Workdir, bin, block_on, ensure, text};

type Case = fn(&TestServer) -> Result<(), Failed>;

/// A folder mistake: what it is, how to make it, and what the error must say.
type Mistake<'a> = (&'a str, Box<dyn Fn(&Path) + 'a>, Vec<String>);

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        ("a_crlf_checkout_is_not_an_edit", crlf_checkout),
        ("folder_mistakes_are_refused_with_their_fix_and_change_nothing", folder_mistakes),
        ("rebase_moves_a_branchs_migration_after_the_one_merged_first", rebase_after_merge),
        ("baseline_records_a_verified_database_and_names_other_tools_tables", baseline_adopts),
        ("the_history_table_may_live_in_a_schema_of_its_own", history_elsewhere),
    ];
    cases
        .into_iter()
        .map(|(name, f)| {
            let server = server.clone();
            Trial::test(format!("folder::{name}"), move || f(&server))
        })
        .collect()
}

const V1: &str =
    "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    name text NOT NULL\n);\n";
const V2: &str = "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    email text\n);\n";
const V3: &str = "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    email text\n);\nCREATE TABLE notes (id bigint PRIMARY KEY);\n";

/// Plans each schema in turn: one migration each.
fn planned(work: &Workdir, server: &TestServer, schemas: &[&str]) -> Result<(), Failed> {
    for schema in schemas {
        work.write_schema("schema.sql", schema);
        let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
        ensure(o.status.success(), text(&o))?;
    }
    Ok(())
}

fn up_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".up.sql"))
        .collect();
    v.sort();
    v
}

fn crlf_checkout(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("crlf").await;
        let work = Workdir::new();
        planned(&work, server, &[V1, V2])?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        // What `core.autocrlf = true` does to every file on checkout.
        for entry in std::fs::read_dir(work.migrations_dir())? {
            let path = entry?.path();
            let lf = std::fs::read_to_string(&path)?;
            std::fs::write(&path, lf.replace('\n', "\r\n"))?;
        }
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).contains("Nothing to apply"), text(&o))?;
        let o = bin(work.path(), &["status", "--database-url", &db.url]);
        ensure(text(&o).matches("  applied").count() == 2, text(&o))?;
        let o =
            bin(work.path(), &["plan", "--database-url", &db.url, "--dev-url", server.admin_url()]);
        ensure(o.status.success() && text(&o).contains("No changes"), text(&o))?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// Each mistake, made on a copy of a good folder: `apply` refuses it, says the fix, and the
/// database is left as it was (no history table even).
fn folder_mistakes(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let good = Workdir::new();
        planned(&good, server, &[V1, V2, V3])?;
        let ups = up_files(&good.migrations_dir());
        ensure(ups.len() == 3, format!("{ups:?}"))?;
        let id = |i: usize| ups[i].trim_end_matches(".up.sql").to_string();
        let mistakes: Vec<Mistake> = vec![
            (
                "a gap",
                Box::new(|dir| {
                    std::fs::remove_file(dir.join(format!("{}.up.sql", id(1)))).unwrap();
                    std::fs::remove_file(dir.join(format!("{}.down.sql", id(1)))).unwrap();
                }),
                vec![
                    format!("has no migration 002 between {} and {}", id(0), id(2)),
                    "git checkout".into(),
                ],
            ),
            (
                "a lost down file",
                Box::new(|dir| {
                    std::fs::remove_file(dir.join(format!("{}.down.sql", id(2)))).unwrap()
                }),
                vec![format!("{}.down.sql is missing", id(2)), "git checkout".into()],
            ),
            (
                "a conflicted sum",
                Box::new(|dir| {
                    let sum = dir.join("schemadiff.sum");
                    let text = std::fs::read_to_string(&sum).unwrap();
                    let (head, tail) = text.split_at(text.find('\n').unwrap() + 1);
                    std::fs::write(
                        &sum,
                        format!("{head}<<<<<<< HEAD\n{tail}=======\n>>>>>>> main\n"),
                    )
                    .unwrap();
                }),
                vec!["schemadiff.sum:2: a merge conflict".into(), "schemadiff rebase".into()],
            ),
            (
                "one number twice",
                Box::new(|dir| {
                    for kind in ["up", "down"] {
                        let from = dir.join(format!("{}.{kind}.sql", id(2)));
                        std::fs::copy(
                            from,
                            dir.join(format!("003_from_another_branch.{kind}.sql")),
                        )
                        .unwrap();
                    }
                }),
                vec![
                    "have the same number 003: two branches each added a migration after 002"
                        .into(),
                    "schemadiff rebase".into(),
                ],
            ),
            (
                "an edited file",
                Box::new(|dir| {
                    let up = dir.join(format!("{}.up.sql", id(1)));
                    let text = std::fs::read_to_string(&up).unwrap();
                    std::fs::write(&up, text + "-- a fix made by hand\n").unwrap();
                }),
                vec![
                    format!("{}.up.sql: edited after it was generated", id(1)),
                    "run `schemadiff plan`".into(),
                ],
            ),
        ];
        for (what, make, said) in &mistakes {
            let db = server.fresh_database("mistake").await;
            let work = Workdir::new();
            copy_dir(&good.migrations_dir(), &work.migrations_dir());
            make(&work.migrations_dir());
            let o = bin(work.path(), &["apply", "--database-url", &db.url]);
            ensure(!o.status.success(), format!("{what}: apply did not refuse: {}", text(&o)))?;
            for s in said {
                ensure(
                    text(&o).contains(s.as_str()),
                    format!("{what}: the error lacks {s:?}:\n{}", text(&o)),
                )?;
            }
            let history: bool = db
                .client
                .query_one("SELECT to_regclass('public.schemadiff_migrations') IS NOT NULL", &[])
                .await?
                .get(0);
            ensure(!history, format!("{what}: apply changed the database"))?;
            server.drop_database(db).await;
        }

        // Applied, then its files deleted (and the sum made to agree): the history says it ran.
        let db = server.fresh_database("mistake_missing").await;
        let work = Workdir::new();
        copy_dir(&good.migrations_dir(), &work.migrations_dir());
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        let dir = work.migrations_dir();
        for kind in ["up", "down"] {
            std::fs::remove_file(dir.join(format!("{}.{kind}.sql", id(2))))?;
        }
        let left = schemadiff::migrations::read_dir(&dir)?;
        std::fs::write(dir.join("schemadiff.sum"), schemadiff::migrations::sum_text(&left))?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(
            !o.status.success()
                && text(&o)
                    .contains(&format!("{} is recorded as applied but its file is missing", id(2)))
                && text(&o).contains("restore it from version control"),
            text(&o),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args([
            "-c",
            "user.name=dev",
            "-c",
            "user.email=dev@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git")
}

/// Two branches each plan migration 002 from 001; the feature branch merges main, its
/// `schemadiff.sum` conflicts, and `rebase` makes the feature's change 003.
fn rebase_after_merge(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let d = work.path();
        let dev = server.admin_url();
        ensure(git(d, &["init", "-q"]).status.success(), "git init")?;
        work.write_schema("contacts.sql", V1);
        ensure(bin(d, &["plan", "--dev-url", dev]).status.success(), "plan 001")?;
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "contacts"]);
        git(d, &["checkout", "-qb", "feature"]);
        work.write_schema("notes.sql", "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n");
        ensure(
            bin(d, &["plan", "--dev-url", dev, "--name", "add_notes"]).status.success(),
            "plan feature",
        )?;
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "notes"]);
        git(d, &["checkout", "-q", "main"]);
        work.write_schema("orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);\n");
        ensure(
            bin(d, &["plan", "--dev-url", dev, "--name", "add_orders"]).status.success(),
            "plan main",
        )?;
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "orders"]);
        git(d, &["checkout", "-q", "feature"]);
        let merge = git(d, &["merge", "-q", "main"]);
        ensure(!merge.status.success(), "the sums should conflict")?;

        let o = bin(d, &["check", "--dev-url", dev]);
        ensure(!o.status.success() && text(&o).contains("schemadiff rebase"), text(&o))?;
        let o = bin(d, &["rebase", "--dev-url", dev]);
        ensure(o.status.success(), text(&o))?;
        ensure(text(&o).contains("Took out 002_add_notes"), text(&o))?;
        let ups = up_files(&work.migrations_dir());
        ensure(
            ups == ["001_create_contacts.up.sql", "002_add_orders.up.sql", "003_add_notes.up.sql"],
            format!("{ups:?}"),
        )?;
        let o = bin(d, &["check", "--dev-url", dev]);
        ensure(o.status.success(), text(&o))?;
        let db = server.fresh_database("rebased").await;
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        let tables: i64 = db
            .client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE tablename IN ('contacts', 'notes', 'orders')",
                &[],
            )
            .await?
            .get(0);
        ensure(tables == 3, format!("{tables} of the three tables"))?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// A database made by hand (and by another tool, whose tables say where it stands) is
/// baselined at the last migration: nothing runs, apply then has nothing to do.
fn baseline_adopts(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let d = work.path();
        let dev = server.admin_url();
        planned(&work, server, &[V1, V2])?;
        let db = server.fresh_database("baseline").await;
        db.client
            .batch_execute(
                "CREATE TABLE contacts (id bigint PRIMARY KEY, name text NOT NULL); \
                 INSERT INTO contacts VALUES (1, 'Ada'); \
                 CREATE TABLE schema_versions (version int, is_active boolean, rolled_back_at timestamptz); \
                 INSERT INTO schema_versions VALUES (1, true, NULL), (2, true, now()), (3, false, NULL); \
                 CREATE TABLE flyway_schema_history (installed_rank int, version text, success boolean); \
                 INSERT INTO flyway_schema_history VALUES (1, '1', true), (2, '9', true), (3, '10', true), (4, '11', false)",
            )
            .await?;
        // At 001, not 002: baseline of 002 refuses and records nothing.
        let o = bin(d, &["baseline", "--database-url", &db.url, "--dev-url", dev]);
        let out = text(&o);
        ensure(!o.status.success(), format!("baseline of the wrong version: {out}"))?;
        ensure(out.contains("the database is not at 002_") && out.contains("email"), out.clone())?;
        let recorded: bool = db
            .client
            .query_one("SELECT to_regclass('public.schemadiff_migrations') IS NOT NULL", &[])
            .await?
            .get(0);
        ensure(!recorded, "a refused baseline made the history table")?;
        let o = bin(d, &["baseline", "1", "--database-url", &db.url, "--dev-url", dev]);
        let out = text(&o);
        ensure(o.status.success(), out.clone())?;
        for said in [
            "Found public.flyway_schema_history (Flyway): 3 migration(s) applied, the latest 10.",
            "Found public.schema_versions (a hand-written runner): 1 migration(s) applied, the latest 1.",
            "Recorded 1 migration(s), up to 001_",
        ] {
            ensure(out.contains(said), format!("baseline lacks {said:?}:\n{out}"))?;
        }
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).contains("Applied 002_"), text(&o))?;
        let rows: i64 = db.client.query_one("SELECT count(*) FROM contacts", &[]).await?.get(0);
        ensure(rows == 1, "the baseline ran something")?;
        let o = bin(d, &["baseline", "--database-url", &db.url, "--dev-url", dev]);
        ensure(!o.status.success() && text(&o).contains("already records migrations"), text(&o))?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// `history_table = "schemadiff.migrations"`: the history is kept there, public holds
/// nothing of schemadiff's, and plan, status and drift do not see it as a change.
fn history_elsewhere(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let d = work.path();
        let dev = server.admin_url();
        std::fs::write(d.join("schemadiff.toml"), "history_table = \"schemadiff.migrations\"\n")?;
        planned(&work, server, &[V1])?;
        let db = server.fresh_database("history_elsewhere").await;
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        let (public, ours): (bool, i64) = {
            let r = db
                .client
                .query_one(
                    "SELECT to_regclass('public.schemadiff_migrations') IS NOT NULL, \
                     (SELECT count(*) FROM schemadiff.migrations WHERE status = 'applied')",
                    &[],
                )
                .await?;
            (r.get(0), r.get(1))
        };
        ensure(!public && ours == 1, format!("public table: {public}, rows in ours: {ours}"))?;
        work.write_schema("schema.sql", V2);
        let o = bin(d, &["plan", "--database-url", &db.url, "--dev-url", dev, "--dry-run"]);
        ensure(o.status.success() && !text(&o).contains("migrations"), text(&o))?;
        let o = bin(d, &["status", "--database-url", &db.url, "--dev-url", dev]);
        ensure(o.status.success() && text(&o).contains("No drift"), text(&o))?;
        std::fs::write(d.join("schemadiff.toml"), "history_table = \"no such; table\"\n")?;
        let o = bin(d, &["status", "--database-url", &db.url]);
        ensure(!o.status.success() && text(&o).contains("is not a table name"), text(&o))?;
        server.drop_database(db).await;
        Ok(())
    })
}
