//! Named behaviours of the tool, end to end through the library and the `schemadiff` binary.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use libtest_mimic::{Failed, Trial};
use schemadiff::{introspect, migrations};

use crate::support::{
    BIN_DEADLINE, TestServer, Workdir, bin, block_on, ensure, output_within, text,
};

type TestFn = fn(&TestServer) -> Result<(), Failed>;

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let tests: Vec<(&str, TestFn)> = vec![
        ("plan_writes_numbered_files_and_apply_status_down_follow", plan_apply_status_down),
        ("plan_summary_lists_statements_hazards_and_files", plan_summary_output),
        ("plan_with_no_difference_writes_nothing", plan_no_difference),
        ("a_state_found_in_sync_is_not_checked_again_until_a_file_changes", in_sync_remembered),
        ("a_remembered_verdict_still_names_the_data_statements", in_sync_keeps_data_note),
        ("clusters_start_from_a_cached_data_directory", cached_initdb),
        ("syntax_error_names_file_line_col_and_writes_nothing", syntax_error),
        ("failing_schema_statement_names_its_file_and_line", failing_statement),
        ("unreachable_database_hides_the_password", unreachable_database),
        (
            "hazards_are_refused_unless_allowed_then_written_as_comments",
            hazards_refused_then_commented,
        ),
        ("an_unknown_hazard_code_is_named_and_allows_nothing", unknown_hazard_code),
        ("squawk_finds_nothing_in_the_fixtures_up_files", squawk_agrees),
        ("repository_example_is_in_sync", repository_example_in_sync),
        ("check_fails_after_an_unplanned_schema_edit", check_fails_after_edit),
        ("check_fails_when_a_generated_file_is_edited", check_fails_on_edited_file),
        ("apply_refuses_an_applied_file_whose_checksum_changed", apply_refuses_changed_checksum),
        ("plan_refuses_a_database_behind_generated", plan_refuses_database_behind),
        ("failed_migration_is_recorded_failed_and_changes_nothing", failed_migration_recorded),
        ("apply_waits_for_no_one_while_another_run_holds_the_lock", advisory_lock_held),
        ("introspection_takes_the_same_queries_for_5_and_500_tables", introspection_query_count),
        ("plan_with_no_database_at_all_uses_an_ephemeral_cluster", ephemeral_default),
        ("ephemeral_cluster_is_removed_when_dropped", ephemeral_cluster_removed),
        ("ctrl_c_stops_and_removes_the_ephemeral_cluster", ctrl_c_cleans_up),
        ("a_command_makes_its_cluster_where_clusters_are_made", cluster_placement),
        ("a_constraint_names_its_columns_in_order_system_ones_too", constraint_columns),
        ("what_a_killed_run_left_is_removed_by_the_next_run", killed_run_leftovers),
        ("dry_run_verifies_and_writes_nothing", dry_run),
        (
            "a_live_plan_verifies_in_the_loaded_schema_and_rebuilds_the_live_one_only_when_that_fails",
            live_plan_verified_down_first,
        ),
        (
            "apply_and_down_dry_runs_print_the_sql_and_after_a_failure_down_says_what_it_reverts",
            apply_down_dry_run,
        ),
        ("down_stops_before_deleting_data_unless_allowed", down_guards_data),
        ("status_shows_times_failures_and_drift_with_its_fix", status_and_drift),
        ("every_command_prints_json_when_asked_with_its_exit_code", json_output),
        ("trigger_function_trigger_per_table_and_view_plan_apply_revert_check", updated_at_pattern),
        ("statement_order_in_schema_does_not_matter", schema_order_free),
        ("a_role_the_target_lacks_is_an_error_naming_it", role_missing_on_target),
        ("privileges_can_be_left_unmanaged_in_schemadiff_toml", privileges_unmanaged),
        ("an_invalid_index_is_reported_and_built_again", invalid_index_rebuilt),
        ("an_extension_at_another_version_is_named", extension_version_named),
        ("data_statements_in_schema_are_named_and_refused_when_asked", data_statements_named),
        (
            "objects_schemadiff_cannot_manage_stop_plan_and_check_unless_excluded",
            unmanaged_objects_noted,
        ),
    ];
    tests
        .into_iter()
        .map(|(name, f)| {
            let server = server.clone();
            Trial::test(format!("behaviour::{name}"), move || f(&server))
        })
        .collect()
}

/// Plans `work`'s schema with the test server as the shadow; the plan must succeed.
fn plan_ok(work: &Workdir, server: &TestServer) -> Result<(), Failed> {
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))
}

/// Whether `done` comes true within ten seconds: an ephemeral cluster's files are deleted by
/// a process of its own, which may still run when the command has ended.
fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    true
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

const CONTACTS_V1: &str =
    "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    name text NOT NULL\n);\n";
const CONTACTS_V2: &str = "CREATE TABLE contacts (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    email varchar(255)\n);\n";

fn plan_apply_status_down(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("flow").await;
        let dev = server.admin_url();
        let d = work.path();
        work.write_schema("contacts.sql", CONTACTS_V1);
        let o = bin(d, &["plan", "--dev-url", dev]);
        ensure(o.status.success(), text(&o))?;
        work.write_schema("contacts.sql", CONTACTS_V2);
        let o = bin(d, &["plan", "--dev-url", dev]);
        ensure(o.status.success(), text(&o))?;
        assert_eq!(
            files(&work.migrations_dir()),
            [
                "001_create_contacts.down.sql",
                "001_create_contacts.up.sql",
                "002_add_email_to_contacts.down.sql",
                "002_add_email_to_contacts.up.sql",
                "schemadiff.sum"
            ]
        );

        let status = bin(d, &["status", "--database-url", &db.url, "--no-drift"]);
        assert_eq!(
            text(&status),
            "001_create_contacts  pending\n002_add_email_to_contacts  pending\n"
        );
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        ensure(
            text(&o).contains("Applied 001_create_contacts")
                && text(&o).contains("Applied 002_add_email_to_contacts"),
            text(&o),
        )?;
        let o = bin(d, &["apply", "--database-url", &db.url]);
        assert_eq!(text(&o), "Nothing to apply: the database is up to date.\n");
        let status = text(&bin(d, &["status", "--database-url", &db.url, "--no-drift"]));
        ensure(status.lines().all(|l| l.contains("  applied  ")), status.clone())?;

        let row = db
            .client
            .query_one(
                "SELECT name, checksum, status, applied_by, execution_ms >= 0, error_message IS NULL \
                 FROM schemadiff_migrations WHERE version = 2",
                &[],
            )
            .await?;
        let up = std::fs::read_to_string(
            work.migrations_dir().join("002_add_email_to_contacts.up.sql"),
        )?;
        assert_eq!(row.get::<_, String>(0), "add_email_to_contacts");
        assert_eq!(row.get::<_, String>(1), migrations::sha256(&up));
        assert_eq!(row.get::<_, String>(2), "applied");
        assert_eq!(row.get::<_, String>(3), "postgres");
        assert!(row.get::<_, bool>(4) && row.get::<_, bool>(5));

        let o = bin(d, &["down", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        ensure(
            text(&o).starts_with("Reverted 002_add_email_to_contacts (")
                && text(&o).lines().count() == 1,
            text(&o),
        )?;
        let columns: i64 = db
            .client
            .query_one(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'contacts'",
                &[],
            )
            .await?
            .get(0);
        assert_eq!(columns, 2, "down removed the email column");
        let status = text(&bin(d, &["status", "--database-url", &db.url]));
        ensure(status.contains("002_add_email_to_contacts  rolled back"), status.clone())?;
        // More than is applied is an error, and reverts nothing.
        let o = bin(d, &["down", "2", "--database-url", &db.url]);
        ensure(
            !o.status.success()
                && text(&o).contains("down 2: only 1 migration(s) are applied (001_create_contacts); `schemadiff down 1` reverts them all"),
            text(&o),
        )?;
        let o = bin(d, &["down", "1", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).contains("Reverted 001_create_contacts"), text(&o))?;
        let tables: i64 = db
            .client
            .query_one("SELECT count(*) FROM pg_tables WHERE tablename = 'contacts'", &[])
            .await?
            .get(0);
        assert_eq!(tables, 0);
        // Applying again after down re-applies both.
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).matches("Applied").count() == 2, text(&o))?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn plan_summary_output(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let dev = server.admin_url();
    work.write_schema("contacts.sql", CONTACTS_V2);
    let first = bin(work.path(), &["plan", "--dev-url", dev]);
    ensure(first.status.success(), text(&first))?;
    work.write_schema("contacts.sql", CONTACTS_V1);
    let o = bin(work.path(), &["plan", "--dev-url", dev, "--allow-hazards", "DELETES_DATA"]);
    ensure(o.status.success(), text(&o))?;
    insta::assert_snapshot!("cli_plan_summary", text(&o));
    Ok(())
}

fn plan_no_difference(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))?;
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))?;
    assert_eq!(text(&o), "No changes: the schema matches schema.\n");
    assert_eq!(files(&work.migrations_dir()).len(), 3);
    Ok(())
}

fn syntax_error(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("a_contacts.sql", CONTACTS_V1);
    work.write_schema(
        "b_tags.sql",
        "-- tags\nCREATE TABLE tags (\n    id bigint,\n    name text,,\n);\n",
    );
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: schema/b_tags.sql:4:15: syntax error at or near \",\"\n  while running: CREATE TABLE tags (\n"
    );
    ensure(!work.migrations_dir().exists(), "nothing may be written")?;
    Ok(())
}

fn failing_statement(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema(
        "tags.sql",
        "CREATE TABLE tags (id bigint);\n\nCREATE INDEX tags_name_idx\n    ON tags (name);\n",
    );
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    ensure(
        err.starts_with("error: schema/tags.sql:3:1: column \"name\" does not exist"),
        err.to_string(),
    )?;
    ensure(!work.migrations_dir().exists(), "nothing may be written")?;
    // Where PostgreSQL gives a position, it is placed inside the statement.
    work.write_schema("tags.sql", "CREATE TABLE tags (\n    id bigint,\n    label labelz\n);\n");
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    ensure(
        err.starts_with("error: schema/tags.sql:3:11: type \"labelz\" does not exist"),
        err.to_string(),
    )?;
    Ok(())
}

fn unreachable_database(_server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let o =
        bin(work.path(), &["status", "--database-url", "postgres://app:s3cret@127.0.0.1:1/crm"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o);
    ensure(!err.contains("s3cret"), err.clone())?;
    ensure(
        // What was tried, as libpq keywords, with what the environment and defaults filled in.
        err.starts_with(
            "error: cannot connect to dbname=crm host=127.0.0.1 port=1 user=app password=****: ",
        ),
        err.clone(),
    )?;
    ensure(err.to_lowercase().contains("connection refused"), err.clone())?;
    Ok(())
}

fn hazards_refused_then_commented(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let dev = server.admin_url();
    work.write_schema("contacts.sql", CONTACTS_V2);
    ensure(bin(work.path(), &["plan", "--dev-url", dev]).status.success(), "first plan")?;
    work.write_schema(
        "contacts.sql",
        "CREATE TABLE contacts (id bigint PRIMARY KEY, name text NOT NULL, email varchar(100));\n",
    );
    let o = bin(work.path(), &["plan", "--dev-url", dev]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o);
    ensure(err.contains("TABLE_REWRITE: changing public.contacts.email from character varying(255) to character varying(100)"), err.clone())?;
    ensure(err.contains("--allow-hazards TABLE_REWRITE"), err.clone())?;
    ensure(
        err.contains("      ALTER TABLE public.contacts ALTER COLUMN email TYPE character varying(100);  -- takes ACCESS EXCLUSIVE lock on public.contacts"),
        err.clone(),
    )?;
    assert_eq!(files(&work.migrations_dir()).len(), 3, "a refused plan writes nothing");
    let o = bin(work.path(), &["plan", "--dev-url", dev, "--allow-hazards", "table_rewrite"]);
    ensure(o.status.success(), text(&o))?;
    let up =
        std::fs::read_to_string(work.migrations_dir().join("002_alter_contacts_email.up.sql"))?;
    ensure(
        up.contains("-- hazard TABLE_REWRITE: changing public.contacts.email from character varying(255) to character varying(100) rewrites the table and its indexes, and fails if a value is longer\n-- takes ACCESS EXCLUSIVE lock on public.contacts\nSET statement_timeout = '1h';\nALTER TABLE public.contacts ALTER COLUMN email TYPE character varying(100);"),
        up,
    )?;
    Ok(())
}

/// The outside linter over every fixture's up file (taken from its snapshot), with the rules
/// the README's table excuses.
fn squawk_agrees(_server: &TestServer) -> Result<(), Failed> {
    let readme = std::fs::read_to_string(repo().join("README.md"))?;
    let section = readme
        .split("### squawk rules that do not apply")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .ok_or("README has no table of squawk rules")?;
    let excused: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    ensure(excused.len() > 10, format!("README lists {excused:?}"))?;
    let dir = tempfile::tempdir()?;
    let snapshots = repo().join("tests/integration/snapshots");
    let (mut plain, mut matviews) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(&snapshots)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(case) = name
            .strip_prefix("integration__fixtures__fixture_")
            .and_then(|n| n.strip_suffix(".snap"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path)?;
        let body = text.splitn(3, "\n---\n").nth(2).unwrap_or_default();
        // Every up file of the case (a rename has an expand and a contract), none of its downs.
        let mut up = String::new();
        let mut in_up = true;
        for l in body.lines() {
            if l.starts_with("-- ") && (l.ends_with(" (up)") || l.ends_with(" (down)")) {
                in_up = l.ends_with(" (up)");
            }
            if in_up {
                up.push_str(l);
                up.push('\n');
            }
        }
        let file = dir.path().join(format!("{case}.up.sql"));
        std::fs::write(&file, up)?;
        if case.starts_with("matview_") { &mut matviews } else { &mut plain }.push(file);
    }
    ensure(plain.len() > 250, format!("{} fixture up files", plain.len()))?;
    let run = |files: &[std::path::PathBuf], extra: &[&str]| -> Result<String, Failed> {
        let rules: Vec<&str> = excused.iter().copied().chain(extra.iter().copied()).collect();
        let out = std::process::Command::new("squawk")
            .args(["--pg-version", "15", "--reporter", "gcc"])
            .arg(format!("--exclude={}", rules.join(",")))
            .args(files)
            .output()
            .map_err(|e| format!("cannot run squawk (scripts/ensure-deps installs it): {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr))
    };
    let mut warnings = run(&plain, &[])?;
    warnings += &run(
        &matviews,
        &["require-concurrent-index-creation", "require-concurrent-index-deletion"],
    )?;
    let found: Vec<&str> =
        warnings.lines().filter(|l| l.contains(": warning: ") || l.contains(": error: ")).collect();
    ensure(found.is_empty(), found.join("\n"))
}

fn unknown_hazard_code(_server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    let o = bin(work.path(), &["plan", "--allow-hazards", "DROP_EVERYTHING,INDEX_BUILD"]);
    ensure(
        text(&o).contains("warning: unknown hazard code \"DROP_EVERYTHING\" allows nothing; known codes: DELETES_DATA,"),
        text(&o),
    )
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repository_example_in_sync(server: &TestServer) -> Result<(), Failed> {
    let o = bin(repo(), &["check", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))?;
    assert_eq!(text(&o), "generated is in sync with schema.\n");
    ensure(migrations::read_dir(&repo().join("generated"))?.len() >= 2, "at least two migrations")
}

/// A copy of the repository's schema/ and generated/ to edit.
fn copy_example() -> Workdir {
    let work = Workdir::new();
    std::fs::create_dir_all(work.migrations_dir()).unwrap();
    for (from, to) in [("schema", work.schema_dir()), ("generated", work.migrations_dir())] {
        for f in std::fs::read_dir(repo().join(from)).unwrap().flatten() {
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    work
}

fn check_fails_after_edit(server: &TestServer) -> Result<(), Failed> {
    let work = copy_example();
    let o = bin(work.path(), &["check", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))?;
    let path = work.schema_dir().join("10_contacts.sql");
    let edited = std::fs::read_to_string(&path)?
        .replace("    phone VARCHAR(50),\n", "    phone VARCHAR(50),\n    linkedin_url TEXT,\n");
    std::fs::write(&path, edited)?;
    let o = bin(work.path(), &["check", "--dev-url", server.admin_url()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o),
        "error: generated is not in sync with schema: a plan would still run\n  \
         ALTER TABLE public.contacts ADD COLUMN linkedin_url text;\n\
         run `schemadiff plan` and commit the new migration\n"
    );
    Ok(())
}

fn check_fails_on_edited_file(server: &TestServer) -> Result<(), Failed> {
    let work = copy_example();
    let path = work.migrations_dir().join("002_alter_qualification_scores.up.sql");
    let edited =
        std::fs::read_to_string(&path)?.replace("character varying(32)", "character varying(64)");
    std::fs::write(&path, edited)?;
    let o = bin(work.path(), &["check", "--dev-url", server.admin_url()]);
    assert_eq!(o.status.code(), Some(1));
    ensure(
        text(&o).contains("002_alter_qualification_scores.up.sql: edited after it was generated"),
        text(&o),
    )
}

fn apply_refuses_changed_checksum(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("checksum").await;
        work.write_schema("contacts.sql", CONTACTS_V1);
        plan_ok(&work, server)?;
        ensure(bin(work.path(), &["apply", "--database-url", &db.url]).status.success(), "apply")?;
        // Edit the applied file and forge the sum, as a hand edit that also ran `sha256sum` would.
        let dir = work.migrations_dir();
        let up = dir.join("001_create_contacts.up.sql");
        std::fs::write(
            &up,
            std::fs::read_to_string(&up)?
                + "\nCREATE INDEX contacts_name_idx ON public.contacts (name);\n",
        )?;
        let all = migrations::read_dir(&dir)?;
        std::fs::write(dir.join(migrations::SUM_FILE), migrations::sum_text(&all))?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        assert_eq!(o.status.code(), Some(1));
        ensure(
            text(&o).contains("001_create_contacts.up.sql was changed after it was applied"),
            text(&o),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn plan_refuses_database_behind(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("behind").await;
        work.write_schema("contacts.sql", CONTACTS_V1);
        plan_ok(&work, server)?;
        work.write_schema("contacts.sql", CONTACTS_V2);
        let o =
            bin(work.path(), &["plan", "--dev-url", server.admin_url(), "--database-url", &db.url]);
        assert_eq!(o.status.code(), Some(1));
        ensure(text(&o).contains("the database has not applied 001_create_contacts"), text(&o))?;
        assert_eq!(files(&work.migrations_dir()).len(), 3);
        server.drop_database(db).await;
        Ok(())
    })
}

fn failed_migration_recorded(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("failed").await;
        let dev = server.admin_url();
        work.write_schema("contacts.sql", CONTACTS_V2);
        ensure(bin(work.path(), &["plan", "--dev-url", dev]).status.success(), "plan 1")?;
        ensure(
            bin(work.path(), &["apply", "--database-url", &db.url]).status.success(),
            "apply 1",
        )?;
        db.client.batch_execute("INSERT INTO contacts (id, name) VALUES (1, 'Ada')").await?;
        // The shadow has no rows, so the plan verifies; the real table has a row, which a new
        // NOT NULL column without a default cannot be added to (the hazard says so).
        work.write_schema(
            "contacts.sql",
            "CREATE TABLE contacts (id bigint PRIMARY KEY, name text NOT NULL, email varchar(255), phone text, region text NOT NULL);\n",
        );
        let o = bin(
            work.path(),
            &[
                "plan",
                "--dev-url",
                dev,
                "--database-url",
                &db.url,
                "--allow-hazards",
                "FAILS_ON_ROWS",
            ],
        );
        ensure(o.status.success(), text(&o))?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        assert_eq!(o.status.code(), Some(2));
        let err = text(&o);
        ensure(err.contains("generated/002_alter_contacts.up.sql:"), err.clone())?;
        ensure(
            err.contains("column \"region\" of relation \"contacts\" contains null values"),
            err.clone(),
        )?;
        let row = db
            .client
            .query_one(
                "SELECT status, error_message FROM schemadiff_migrations WHERE version = 2",
                &[],
            )
            .await?;
        assert_eq!(row.get::<_, String>(0), "failed");
        ensure(row.get::<_, String>(1).contains("contains null values"), "error recorded")?;
        // Nothing of the failed file stayed: the phone column it adds first is not there.
        let phone: i64 = db
            .client
            .query_one(
                "SELECT count(*) FROM information_schema.columns WHERE column_name = 'phone'",
                &[],
            )
            .await?
            .get(0);
        assert_eq!(phone, 0);
        let status = text(&bin(work.path(), &["status", "--database-url", &db.url]));
        ensure(status.contains("002_alter_contacts  FAILED"), status.clone())?;
        // Empty the table, apply again: the same file now succeeds.
        db.client.batch_execute("DELETE FROM contacts").await?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).contains("Applied 002_alter_contacts"), text(&o))?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn advisory_lock_held(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("lock").await;
        work.write_schema("contacts.sql", CONTACTS_V1);
        plan_ok(&work, server)?;
        let holder = schemadiff::connect::connect_url(&db.url).await?;
        holder.batch_execute("SELECT pg_advisory_lock(1552863743)").await?;
        // Told not to wait, it gives up at once (production:: shows the wait itself).
        std::fs::write(work.path().join("schemadiff.toml"), "lock_wait = \"0s\"\n").unwrap();
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.code() == Some(1), text(&o))?;
        ensure(
            text(&o).contains("another schemadiff run holds this database's migration lock"),
            text(&o),
        )?;
        holder.batch_execute("SELECT pg_advisory_unlock(1552863743)").await?;
        let o = bin(work.path(), &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        drop(holder);
        server.drop_database(db).await;
        Ok(())
    })
}

fn introspection_query_count(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let mut counts = Vec::new();
        for n in [5, 500] {
            let db = server.fresh_database(&format!("count_{n}")).await;
            let mut sql = String::from(
                "CREATE SCHEMA crm; CREATE TYPE crm.status AS ENUM ('a', 'b'); CREATE EXTENSION citext; \
                 CREATE FUNCTION crm.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;",
            );
            for i in 0..n {
                sql.push_str(&format!(
                    "CREATE TABLE crm.t{i} (id serial PRIMARY KEY, email citext UNIQUE, s crm.status, \
                     parent int REFERENCES crm.t{i}(id), CHECK (id > 0));\
                     CREATE INDEX t{i}_s ON crm.t{i} (s); COMMENT ON TABLE crm.t{i} IS 'x';\
                     CREATE VIEW crm.v{i} AS SELECT id, s FROM crm.t{i};\
                     CREATE TRIGGER t{i}_touch BEFORE UPDATE ON crm.t{i} FOR EACH ROW EXECUTE FUNCTION crm.touch();"
                ));
            }
            db.client.batch_execute(&sql).await?;
            let (catalog, stats) =
                introspect::introspect_with_stats(&db.client, &[], introspect::Purpose::Plan, None)
                    .await?;
            assert_eq!(catalog.tables.len(), n);
            assert_eq!(catalog.indexes.len(), n);
            counts.push(stats.queries);
            // Read again with the heaviest queries on two more sessions of one snapshot (as a
            // large catalog is): the same catalog, edges and all, in as many queries.
            let helpers = vec![
                schemadiff::connect::connect_url(&db.url).await?,
                schemadiff::connect::connect_url(&db.url).await?,
            ];
            let (shared, shared_stats) = introspect::introspect_with_stats(
                &db.client,
                &helpers,
                introspect::Purpose::Plan,
                None,
            )
            .await?;
            assert!(shared == catalog, "the catalog read on three sessions differs");
            assert_eq!(
                shared.depends.edges().collect::<Vec<_>>(),
                catalog.depends.edges().collect::<Vec<_>>()
            );
            assert_eq!(shared_stats.queries, stats.queries);
            assert_eq!((stats.on_helpers, shared_stats.on_helpers), (0, 3));
            // Read only to be compared (as verification reads): the same catalog, without
            // the dependency graph but for the views' own edges.
            let (compared, compared_stats) = introspect::introspect_with_stats(
                &db.client,
                &[],
                introspect::Purpose::Compare,
                None,
            )
            .await?;
            assert!(compared == catalog, "the catalog read to compare differs");
            assert_eq!(compared_stats.queries, stats.queries);
            assert!(compared.depends.len() * 3 < catalog.depends.len());
            // Read beside the first (as `schema/` is read beside the live catalog): the same
            // catalog and edges, holding the first one's identities and columns, not copies.
            let (like, _) = introspect::introspect_with_stats(
                &db.client,
                &[],
                introspect::Purpose::Plan,
                Some(&catalog),
            )
            .await?;
            assert!(like == catalog, "the catalog read beside another differs");
            assert_eq!(
                like.depends.edges().collect::<Vec<_>>(),
                catalog.depends.edges().collect::<Vec<_>>()
            );
            let all = like.depends.identities_shared_with(&like.depends);
            assert_eq!(like.depends.identities_shared_with(&catalog.depends), all);
            assert_eq!(catalog.depends.identities_shared_with(&compared.depends), 0);
            for (name, table) in &like.tables {
                assert!(Arc::ptr_eq(table, &catalog.tables[name]), "{name}");
                assert!(Arc::ptr_eq(&table.columns, &catalog.tables[name].columns), "{name}");
                assert!(Arc::ptr_eq(&table.constraints, &catalog.tables[name].constraints));
            }
            for (name, index) in &like.indexes {
                assert!(Arc::ptr_eq(index, &catalog.indexes[name]), "{name}");
            }
            for (id, object) in &like.objects {
                assert!(Arc::ptr_eq(object, &catalog.objects[id]), "{id:?}");
            }
            // A read-back (compared, then let go) shares what compares equal: a key read to
            // compare leaves out its index's definition, which a plan's read holds.
            let (read_back, _) = introspect::introspect_with_stats(
                &db.client,
                &[],
                introspect::Purpose::Compare,
                Some(&catalog),
            )
            .await?;
            assert!(read_back == catalog, "the read-back beside the catalog differs");
            for (name, table) in &read_back.tables {
                let theirs = &catalog.tables[name].constraints;
                assert!(Arc::ptr_eq(&table.constraints, theirs), "{name}");
                assert!(Arc::ptr_eq(table, &catalog.tables[name]), "{name}");
            }
            for (name, index) in &read_back.indexes {
                assert!(Arc::ptr_eq(index, &catalog.indexes[name]), "{name}");
            }
            for (id, object) in &read_back.objects {
                assert!(Arc::ptr_eq(object, &catalog.objects[id]), "{id:?}");
            }
            drop(helpers);
            server.drop_database(db).await;
        }
        assert_eq!(counts[0], counts[1], "queries for 5 tables vs 500 tables");
        // Schemas, extensions, enums, sequences, tables, columns, constraints, indexes, views,
        // routines, triggers, policies, domains, composite types, collations, rules, operators,
        // casts, and the edges.
        assert_eq!(counts[0], 25, "one query per object kind");
        Ok(())
    })
}

fn ephemeral_default(_server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    let o = bin(work.path(), &["plan"]);
    ensure(o.status.success(), text(&o))?;
    ensure(work.migrations_dir().join("001_create_contacts.up.sql").exists(), "file written")?;
    let o = bin(work.path(), &["check"]);
    ensure(o.status.success(), text(&o))
}

fn ephemeral_cluster_removed(_server: &TestServer) -> Result<(), Failed> {
    let cluster = schemadiff::shadow::EphemeralCluster::start()?;
    let dir = cluster.socket_dir().to_path_buf();
    block_on(async {
        let client = schemadiff::connect::connect(&cluster.config("postgres"), "test").await?;
        let one: i32 = client.query_one("SELECT 1", &[]).await?.get(0);
        assert_eq!(one, 1);
        Ok::<(), Failed>(())
    })?;
    ensure(dir.join(".s.PGSQL.5432").exists(), "socket while running")?;
    drop(cluster);
    ensure(eventually(|| !dir.exists()), format!("{} is removed", dir.display()))?;
    // The server as started (`postgres -D DIR/data ...`): the `rm` that deletes the directory
    // in the background names it too, and may not have exited yet.
    let server = format!("postgres -D {}", dir.display());
    let pids = Command::new("pgrep").args(["-f", &server]).output()?;
    ensure(pids.stdout.is_empty(), "no server process is left")
}

/// A command's ephemeral cluster is made where `clusters_dir` says (`/dev/shm` when it has
/// room and TMPDIR is not set; see the unit tests of that choice), found there by the owner
/// file that names the command's process.
fn cluster_placement(_server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    let place = schemadiff::shadow::clusters_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_schemadiff"))
        .args(["plan", "--dry-run"])
        .current_dir(work.path())
        .env_remove("DATABASE_URL")
        .env_remove("SCHEMADIFF_DEV_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let owner = format!("{} ", child.id());
    let ours = || {
        let entries = std::fs::read_dir(&place).into_iter().flatten().flatten();
        entries.into_iter().any(|e| {
            e.file_name().to_string_lossy().starts_with("schemadiff-pg-")
                && std::fs::read_to_string(e.path().join("owner"))
                    .is_ok_and(|o| o.starts_with(&owner))
        })
    };
    let mut seen = false;
    while !seen && child.try_wait()?.is_none() {
        seen = ours();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let status = child.wait()?;
    ensure(status.success(), format!("the plan failed: {status}"))?;
    ensure(seen, format!("the plan's cluster was not made in {}", place.display()))
}

fn ctrl_c_cleans_up(_server: &TestServer) -> Result<(), Failed> {
    use std::os::unix::fs::PermissionsExt;
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    // A private TMPDIR, readable by the postgres user, shows what the run leaves behind.
    let tmp = tempfile::tempdir()?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_schemadiff"))
        .args(["plan"])
        .current_dir(work.path())
        .env("TMPDIR", tmp.path())
        .env_remove("DATABASE_URL")
        .env_remove("SCHEMADIFF_DEV_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // Interrupt once the cluster is up (its directory exists), or when the run ends.
    let started = std::time::Instant::now();
    while files(tmp.path()).is_empty() && started.elapsed().as_secs() < 30 {
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let saw_cluster = !files(tmp.path()).is_empty();
    std::thread::sleep(std::time::Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )?;
    let out = child.wait_with_output()?;
    ensure(saw_cluster, "the run started a cluster in TMPDIR")?;
    // All but the spare data directory a run leaves the next (see the README's Leftovers),
    // which is not the run's: no server has run in it.
    let of_the_run = || {
        let mut left = files(tmp.path());
        left.retain(|f| !f.starts_with("schemadiff-spare-"));
        left
    };
    ensure(eventually(|| of_the_run().is_empty()), format!("left behind: {:?}", of_the_run()))?;
    ensure(files(tmp.path()).len() <= 1, format!("more than one spare: {:?}", files(tmp.path())))?;
    // The server and the removal may still be exiting on a loaded machine: left means still
    // there after the same ten seconds.
    let running = || {
        let pgrep = Command::new("pgrep").args(["-f", &tmp.path().display().to_string()]).output();
        pgrep.is_ok_and(|p| !p.stdout.is_empty())
    };
    ensure(eventually(|| !running()), "no server process is left")?;
    if out.status.code() == Some(130) {
        ensure(!work.migrations_dir().exists(), "an interrupted plan writes nothing")?;
    }
    Ok(())
}

/// Against a live database the plan is verified in `schema/` as loaded, down first, and the
/// live schema is not rebuilt in the shadow; a schema whose load leaves what no catalog read
/// shows (a pg_proc row given another OID by hand leaves its pg_depend row behind, which
/// `DROP SCHEMA` trips on) makes that check fail, and the plan is proven again from the live
/// schema rebuilt, up first, and written.
fn live_plan_verified_down_first(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("down_first").await;
        let plan = |work: &Workdir| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_schemadiff"));
            command
                .args(["plan", "--dev-url", server.admin_url(), "--database-url", &db.url])
                .args(["--allow-hazards", "DELETES_DATA"])
                .current_dir(work.path())
                .env("SCHEMADIFF_LOG", "info")
                .env_remove("DATABASE_URL")
                .env_remove("SCHEMADIFF_DEV_URL");
            output_within(command, BIN_DEADLINE)
        };
        let rebuilt =
            |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).contains(":rebuilt");

        let work = Workdir::new();
        work.write_schema("app.sql", "CREATE SCHEMA app;\nCREATE TABLE app.t (id int);\n");
        let o = plan(&work);
        ensure(o.status.success() && !rebuilt(&o), text(&o))?;

        let work = Workdir::new();
        work.write_schema(
            "app.sql",
            "CREATE SCHEMA app;\n\
             CREATE TABLE app.t (id int);\n\
             CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n\
             UPDATE pg_catalog.pg_proc SET oid = 'app.t'::regclass::oid\n\
               WHERE oid = 'app.f'::regproc::oid;\n",
        );
        let o = plan(&work);
        ensure(o.status.success() && rebuilt(&o), text(&o))?;
        ensure(
            files(&work.migrations_dir()).iter().any(|f| f.ends_with(".down.sql")),
            format!("written: {:?}", files(&work.migrations_dir())),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn dry_run(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    let o = bin(
        work.path(),
        &["plan", "--dev-url", server.admin_url(), "--dry-run", "--name", "First cut!"],
    );
    ensure(o.status.success(), text(&o))?;
    ensure(
        text(&o).contains("Plan 001_first_cut (1 steps)")
            && text(&o).ends_with("Dry run: nothing written.\n"),
        text(&o),
    )?;
    ensure(!work.migrations_dir().exists(), "a dry run writes nothing")
}

fn unmanaged_objects_noted(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    ensure(bin(work.path(), &["plan", "--dev-url", server.admin_url()]).status.success(), "plan")?;
    work.write_schema(
        "contacts.sql",
        &format!("{CONTACTS_V1}CREATE TEXT SEARCH CONFIGURATION notes_search (COPY = simple);\n"),
    );
    let expected = "error: these objects differ, and schemadiff cannot manage them yet:\n  \
         text search configuration public.notes_search (only in schema)\nchange them by hand, or list them \
         under `exclude` in schemadiff.toml\n";
    for command in ["plan", "check"] {
        let o = bin(work.path(), &[command, "--dev-url", server.admin_url()]);
        ensure(!o.status.success(), format!("{command} must fail: {}", text(&o)))?;
        assert_eq!(text(&o), expected, "{command}");
    }
    // Excluded by name, it no longer stops either.
    std::fs::write(
        work.path().join("schemadiff.toml"),
        "exclude = [\"text search configuration public.*\"]\n",
    )
    .unwrap();
    let o = bin(work.path(), &["check", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))?;
    Ok(())
}

/// The pattern our users' migration folders are full of: one `updated_at` trigger function,
/// a BEFORE UPDATE trigger per table, a view over a table.
const UPDATED_AT_SCHEMA: &str = "CREATE TABLE contacts (id bigint PRIMARY KEY, name text NOT NULL, \
     updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE deals (id bigint PRIMARY KEY, contact_id bigint REFERENCES contacts, \
     updated_at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION update_updated_at_column() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER contacts_updated_at BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER deals_updated_at BEFORE UPDATE ON deals
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE VIEW contact_deals AS
    SELECT c.id, c.name, count(d.id) AS deals FROM contacts c LEFT JOIN deals d ON d.contact_id = c.id GROUP BY c.id;
";

fn updated_at_pattern(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("updated_at").await;
        let dev = server.admin_url();
        let d = work.path();
        work.write_schema("schema.sql", UPDATED_AT_SCHEMA);
        plan_ok(&work, server)?;
        let up =
            std::fs::read_to_string(work.migrations_dir().join(
                files(&work.migrations_dir()).iter().find(|f| f.ends_with(".up.sql")).unwrap(),
            ))?;
        for object in [
            "FUNCTION public.update_updated_at_column()",
            "TRIGGER contacts_updated_at",
            "TRIGGER deals_updated_at",
            "VIEW public.contact_deals",
        ] {
            ensure(up.contains(object), format!("{object} missing from\n{up}"))?;
        }
        let check = bin(d, &["check", "--dev-url", dev]);
        ensure(check.status.success(), text(&check))?;

        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        db.client.batch_execute("INSERT INTO contacts VALUES (1, 'Ada', '2000-01-01')").await?;
        db.client.batch_execute("UPDATE contacts SET name = 'Ada L.'").await?;
        let touched: bool = db
            .client
            .query_one("SELECT updated_at > '2000-01-02' FROM contacts", &[])
            .await?
            .get(0);
        ensure(touched, "the trigger must set updated_at")?;
        // The row is the test's own: let down drop it with its table.
        let o = bin(d, &["down", "--database-url", &db.url, "--allow-hazards", "DELETES_DATA"]);
        ensure(o.status.success(), text(&o))?;
        let left = introspect::introspect(&db.client).await?;
        ensure(left.objects.is_empty() && left.tables.is_empty(), format!("{:?}", left.facts()))?;

        // The gate fails when any managed object differs: here only a trigger's body.
        work.write_schema("schema.sql", &UPDATED_AT_SCHEMA.replace("now();", "clock_timestamp();"));
        let check = bin(d, &["check", "--dev-url", dev]);
        ensure(!check.status.success(), format!("check must fail: {}", text(&check)))?;
        ensure(
            text(&check).contains("CREATE OR REPLACE FUNCTION public.update_updated_at_column()"),
            text(&check),
        )?;
        Ok(())
    })
}

/// A constraint's columns are read as numbers and named from the table's columns, in the
/// constraint's order; a check on a system column (tableoid) names it too.
fn constraint_columns(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let db = server.fresh_database("constraint_columns").await;
        db.client
            .batch_execute(
                "CREATE TABLE parent (a int, b int, c int, PRIMARY KEY (c, a));
                 CREATE TABLE child (x int, y int, z int,
                     CONSTRAINT sys CHECK (tableoid <> 0 AND z > 0),
                     CONSTRAINT fk FOREIGN KEY (z, x) REFERENCES parent (c, a),
                     CONSTRAINT ex EXCLUDE USING btree ((x + 1) WITH =, z WITH =));
                 ALTER TABLE child DROP COLUMN y;",
            )
            .await?;
        let catalog = introspect::introspect(&db.client).await?;
        let columns = |table: &str, constraint: &str| {
            let t = &catalog.tables[&schemadiff::catalog::QualifiedName::new("public", table)];
            t.constraints.get(constraint).map(|c| c.columns.clone()).unwrap_or_default()
        };
        ensure(columns("parent", "parent_pkey") == ["c", "a"], "parent_pkey")?;
        ensure(columns("child", "fk") == ["z", "x"], format!("{:?}", columns("child", "fk")))?;
        // An expression is key number 0, which names no column.
        ensure(columns("child", "ex") == ["z"], format!("{:?}", columns("child", "ex")))?;
        ensure(
            columns("child", "sys") == ["tableoid", "z"],
            format!("{:?}", columns("child", "sys")),
        )
    })
}

fn apply_down_dry_run(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("dry_runs").await;
        let d = work.path();
        let dev = server.admin_url();
        work.write_schema("contacts.sql", CONTACTS_V1);
        ensure(bin(d, &["plan", "--dev-url", dev]).status.success(), "plan 1")?;
        let o = bin(d, &["apply", "--database-url", &db.url, "--dry-run"]);
        ensure(
            o.status.success()
                && text(&o)
                    .contains("-- would apply 001_create_contacts\n-- 001_create_contacts (up)")
                && text(&o).contains("CREATE TABLE public.contacts"),
            text(&o),
        )?;
        let history = "SELECT to_regclass('public.schemadiff_migrations') IS NULL AND to_regclass('public.contacts') IS NULL";
        let untouched: bool = db.client.query_one(history, &[]).await?.get(0);
        ensure(untouched, "a dry run makes nothing, not even the history table")?;
        ensure(bin(d, &["apply", "--database-url", &db.url]).status.success(), "apply")?;
        db.client.batch_execute("INSERT INTO contacts VALUES (1, 'Ada')").await?;

        // The next migration fails on the row: down then says so and what it would revert.
        work.write_schema(
            "contacts.sql",
            &CONTACTS_V1.replace("name text NOT NULL", "name text NOT NULL CHECK (name <> 'Ada')"),
        );
        let o = bin(d, &["plan", "--dev-url", dev, "--allow-hazards", "TABLE_SCAN"]);
        ensure(o.status.success(), text(&o))?;
        ensure(!bin(d, &["apply", "--database-url", &db.url]).status.success(), "apply fails")?;
        let o = bin(d, &["down", "--database-url", &db.url, "--dry-run"]);
        ensure(
            o.status.success()
                && text(&o).contains("note: 002_")
                && text(&o).contains(" failed (")
                && text(&o).contains("down reverts 001_create_contacts, which applied")
                && text(&o).contains("-- would revert 001_create_contacts")
                && text(&o).contains("DROP TABLE public.contacts;"),
            text(&o),
        )?;
        let rows: i64 = db.client.query_one("SELECT count(*) FROM contacts", &[]).await?.get(0);
        ensure(rows == 1, "a dry run of down reverts nothing")?;
        server.drop_database(db).await;
        Ok(())
    })
}

fn schema_order_free(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    // Files are read in name order: the view and the trigger come before what they use, and
    // a foreign key points at a table defined later.
    work.write_schema(
        "a_views.sql",
        "CREATE VIEW active_leads AS SELECT id, contact_id FROM leads;\n",
    );
    work.write_schema(
        "b_triggers.sql",
        "CREATE TRIGGER leads_touch BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION touch();\n",
    );
    work.write_schema(
        "c_tables.sql",
        "CREATE TABLE leads (id bigint PRIMARY KEY, contact_id bigint REFERENCES contacts);\n\
         CREATE TABLE contacts (id bigint PRIMARY KEY);\n\
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\n",
    );
    plan_ok(&work, server)?;
    // What still fails once everything else has loaded is named where it is written.
    work.write_schema("d_broken.sql", "\nCREATE VIEW broken AS SELECT id FROM no_such_table;\n");
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    assert_eq!(o.status.code(), Some(2));
    ensure(
        text(&o).contains("schema/d_broken.sql:2:38: relation \"no_such_table\" does not exist"),
        text(&o),
    )?;
    Ok(())
}

/// Extension versions are not managed (most have no script back), but a difference is named.
fn extension_version_named(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("extension_version").await;
        db.client.batch_execute("CREATE EXTENSION pg_trgm VERSION '1.5'").await?;
        work.write_schema("search.sql", "CREATE EXTENSION pg_trgm;\n");
        let o =
            bin(work.path(), &["plan", "--dev-url", server.admin_url(), "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        ensure(
            text(&o).contains("note: extension pg_trgm is at version 1.5 in the database and 1.6 in the shadow; versions are not managed"),
            text(&o),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// What a failed `CREATE INDEX CONCURRENTLY` leaves behind is named and built again.
fn invalid_index_rebuilt(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("invalid_index").await;
        let schema = format!("{CONTACTS_V1}CREATE INDEX contacts_name ON contacts (name);\n");
        db.client.batch_execute(&schema).await?;
        db.client
            .batch_execute(
                "UPDATE pg_index SET indisvalid = false \
                 WHERE indexrelid = 'public.contacts_name'::regclass",
            )
            .await?;
        work.write_schema("contacts.sql", &schema);
        let o = bin(
            work.path(),
            &[
                "plan",
                "--dev-url",
                server.admin_url(),
                "--database-url",
                &db.url,
                "--allow-hazards",
                "INDEX_BUILD",
            ],
        );
        ensure(o.status.success(), text(&o))?;
        ensure(
            text(&o).contains("note: index public.contacts_name is invalid (a failed CREATE INDEX CONCURRENTLY leaves one): the plan builds it again"),
            text(&o),
        )?;
        let up =
            std::fs::read_to_string(work.migrations_dir().join(&files(&work.migrations_dir())[1]))
                .unwrap_or_default();
        ensure(
            up.contains(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS contacts_name__new ON public.contacts",
            ) && up.contains("DROP INDEX CONCURRENTLY IF EXISTS public.contacts_name;")
                && up.contains(
                    "ALTER INDEX IF EXISTS public.contacts_name__new RENAME TO contacts_name;",
                ),
            up,
        )?;
        ensure(bin(work.path(), &["apply", "--database-url", &db.url]).status.success(), "apply")?;
        let valid: bool = db
            .client
            .query_one("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.contacts_name'::regclass", &[])
            .await?
            .get(0);
        ensure(valid, "the index is valid after apply")?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// A team whose target lacks the roles of its laptops turns privileges and owners off.
fn privileges_unmanaged(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let dev = schemadiff::shadow::EphemeralCluster::start()?;
        let admin = schemadiff::connect::connect_url(&dev.url("postgres")).await?;
        admin.batch_execute("CREATE ROLE analysts_only_on_dev").await?;
        let db = server.fresh_database("grants").await;
        let work = Workdir::new();
        work.write_schema(
            "deals.sql",
            "CREATE TABLE deals (id bigint PRIMARY KEY);\n\
             GRANT SELECT ON deals TO analysts_only_on_dev;\n\
             ALTER TABLE deals OWNER TO analysts_only_on_dev;\n",
        );
        let args = ["plan", "--database-url", &db.url, "--dev-url", &dev.url("postgres")];
        let o = bin(work.path(), &args);
        ensure(!o.status.success(), text(&o))?;
        ensure(
            text(&o).contains("roles the database does not have: analysts_only_on_dev"),
            text(&o),
        )?;
        std::fs::write(work.path().join("schemadiff.toml"), "privileges = false\nowners = false\n")
            .unwrap();
        let o = bin(work.path(), &args);
        ensure(o.status.success(), text(&o))?;
        let up = std::fs::read_to_string(work.migrations_dir().join("001_create_deals.up.sql"))
            .map_err(|e| format!("{e}: {}", text(&o)))?;
        ensure(!up.contains("GRANT") && !up.contains("OWNER"), up)?;
        Ok(())
    })
}

/// Rows are not schema: an `INSERT` in `schema/` is named at its file:line, and stops the
/// plan when the project asks for that.
fn data_statements_named(server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema(
        "contacts.sql",
        &format!("{CONTACTS_V1}INSERT INTO contacts VALUES (1, 'Ada');\n"),
    );
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    ensure(o.status.success(), text(&o))?;
    let note = "note: schema/ holds the schema, not data: these statements change rows, and no \
                migration carries rows:\n  ";
    ensure(text(&o).contains(note), text(&o))?;
    ensure(text(&o).contains("contacts.sql:5:1: INSERT INTO contacts\n"), text(&o))?;
    let written = files(&work.migrations_dir());
    std::fs::write(work.path().join("schemadiff.toml"), "data_statements = \"error\"\n").unwrap();
    work.write_schema(
        "contacts.sql",
        &format!("{CONTACTS_V2}INSERT INTO contacts VALUES (1, 'Ada');\n"),
    );
    let o = bin(work.path(), &["plan", "--dev-url", server.admin_url()]);
    ensure(o.status.code() == Some(2), format!("exit {:?}: {}", o.status.code(), text(&o)))?;
    ensure(text(&o).contains("contacts.sql:6:1: INSERT INTO contacts\n"), text(&o))?;
    ensure(files(&work.migrations_dir()) == written, "nothing more may be written")?;
    Ok(())
}

fn role_missing_on_target(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        // The dev server has the role; the target, another cluster, does not.
        let dev = schemadiff::shadow::EphemeralCluster::start()?;
        let admin = schemadiff::connect::connect_url(&dev.url("postgres")).await?;
        admin.batch_execute("CREATE ROLE sales_team_only_on_dev").await?;
        let db = server.fresh_database("roles").await;
        let work = Workdir::new();
        work.write_schema(
            "deals.sql",
            "CREATE TABLE deals (id bigint PRIMARY KEY, owner text);\n\
             ALTER TABLE deals ENABLE ROW LEVEL SECURITY;\n\
             CREATE POLICY deals_sales ON deals TO sales_team_only_on_dev USING (true);\n",
        );
        let o = bin(
            work.path(),
            &["plan", "--database-url", &db.url, "--dev-url", &dev.url("postgres")],
        );
        ensure(!o.status.success(), text(&o))?;
        ensure(
            text(&o).contains("roles the database does not have: sales_team_only_on_dev"),
            text(&o),
        )?;
        ensure(!work.migrations_dir().exists(), "nothing may be written")?;
        Ok(())
    })
}

/// `down` of a step its plan marked DELETES_DATA runs only when the data is not there, or
/// when allowed; a column holding only its default loses nothing.
fn down_guards_data(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("down_guard").await;
        let d = work.path();
        work.write_schema("contacts.sql", CONTACTS_V1);
        work.write_schema("tags.sql", "CREATE TABLE tags (label text);\n");
        plan_ok(&work, server)?;
        work.write_schema("contacts.sql", CONTACTS_V2);
        plan_ok(&work, server)?;
        work.write_schema(
            "contacts.sql",
            &format!(
                "{CONTACTS_V2}ALTER TABLE contacts ADD COLUMN tier text NOT NULL DEFAULT 'free';\nALTER TABLE contacts ADD COLUMN prefs json NOT NULL DEFAULT '{{}}';\n"
            ),
        );
        plan_ok(&work, server)?;
        db.client.batch_execute("CREATE TABLE bystander (n int)").await?;
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        db.client
            .batch_execute(
                "INSERT INTO contacts (id, name, email) VALUES (1, 'Ada', 'ada@example.com')",
            )
            .await?;
        // 003's columns hold only their defaults (the json one has no equality operator):
        // nothing is lost, so they go.
        let o = bin(d, &["down", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).contains("Reverted 003_"), text(&o))?;
        // 002's column holds a value someone wrote.
        let o = bin(d, &["down", "--database-url", &db.url]);
        let out = text(&o);
        ensure(!o.status.success(), format!("down deleted data: {out}"))?;
        for said in [
            "002_add_email_to_contacts.down.sql:11:1: down stopped before deleting data: public.contacts.email holds 1 value",
            "down stopped before deleting data: public.contacts.email holds 1 value",
            "--allow-hazards DELETES_DATA",
        ] {
            ensure(out.contains(said), format!("the message lacks {said:?}:\n{out}"))?;
        }
        let email: i64 =
            db.client.query_one("SELECT count(email) FROM contacts", &[]).await?.get(0);
        ensure(email == 1, "the value is gone")?;
        let o = bin(d, &["down", "--database-url", &db.url, "--allow-hazards", "DELETES_DATA"]);
        ensure(o.status.success() && text(&o).contains("Reverted 002_"), text(&o))?;
        // 001 would drop a table with a row; `down 1` on a two-row table names the count.
        db.client.batch_execute("INSERT INTO contacts (id, name) VALUES (2, 'Grace')").await?;
        let o = bin(d, &["down", "--database-url", &db.url]);
        ensure(!o.status.success() && text(&o).contains("public.contacts holds 2 rows"), text(&o))?;
        // 001's down drops both tables in one statement, and each is checked.
        let down = std::fs::read_dir(work.migrations_dir())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.to_string_lossy().ends_with(".down.sql") && p.to_string_lossy().contains("001_")
            })
            .expect("001's down");
        let down = std::fs::read_to_string(down)?;
        ensure(down.contains("DROP TABLE\n    public.contacts,\n    public.tags;"), &down)?;
        db.client.batch_execute("DELETE FROM contacts; INSERT INTO tags VALUES ('vip')").await?;
        let o = bin(d, &["down", "--database-url", &db.url]);
        ensure(!o.status.success() && text(&o).contains("public.tags holds 1 row"), text(&o))?;
        db.client.batch_execute("DELETE FROM tags").await?;
        let o = bin(d, &["down", "--database-url", &db.url]);
        ensure(o.status.success() && text(&o).contains("Reverted 001_"), text(&o))?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// `status` lists each migration with its time, fails on a failed migration, and names the
/// objects changed by hand with the SQL that brings them back.
fn status_and_drift(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("status_drift").await;
        let d = work.path();
        let dev = server.admin_url();
        work.write_schema("contacts.sql", CONTACTS_V1);
        plan_ok(&work, server)?;
        work.write_schema("contacts.sql", CONTACTS_V2);
        plan_ok(&work, server)?;
        let status = |d: &Path| bin(d, &["status", "--database-url", &db.url, "--dev-url", dev]);
        // Nothing applied yet, on a database with tables of its own: nothing to drift from.
        db.client.batch_execute("CREATE TABLE before_schemadiff (id int)").await?;
        let o = status(d);
        ensure(o.status.success() && text(&o).contains("no migration is applied yet"), text(&o))?;
        db.client.batch_execute("DROP TABLE before_schemadiff").await?;
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        let o = status(d);
        let out = text(&o);
        ensure(o.status.success(), out.clone())?;
        let dated =
            regex::Regex::new(r"applied  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+ ms\)").unwrap();
        ensure(dated.find_iter(&out).count() == 2 && out.contains("No drift"), out.clone())?;

        // Someone changes production by hand.
        db.client
            .batch_execute("ALTER TABLE contacts ADD COLUMN hack int; CREATE INDEX contacts_name ON contacts (name)")
            .await?;
        let o = status(d);
        let out = text(&o);
        ensure(!o.status.success(), format!("drift must fail status: {out}"))?;
        for said in [
            "DRIFT: the database differs from what its applied migrations make",
            "hack",
            "contacts_name",
            "DROP INDEX",
            "ALTER TABLE public.contacts DROP COLUMN hack;",
        ] {
            ensure(out.contains(said), format!("status lacks {said:?}:\n{out}"))?;
        }
        db.client
            .batch_execute("ALTER TABLE contacts DROP COLUMN hack; DROP INDEX contacts_name")
            .await?;

        // A migration that fails, then one reverted: both listed with what and when.
        let dir = work.migrations_dir();
        std::fs::write(
            dir.join("003_broken.up.sql"),
            "ALTER TABLE contacts ADD COLUMN c no_such_type;\n",
        )?;
        std::fs::write(dir.join("003_broken.down.sql"), "SELECT 1;\n")?;
        let all = schemadiff::migrations::read_dir(&dir)?;
        std::fs::write(dir.join("schemadiff.sum"), schemadiff::migrations::sum_text(&all))?;
        let o = bin(d, &["apply", "--database-url", &db.url]);
        ensure(!o.status.success(), text(&o))?;
        let o = status(d);
        let out = text(&o);
        ensure(
            !o.status.success()
                && out.contains("003_broken  FAILED")
                && out.contains("no_such_type"),
            out.clone(),
        )?;
        std::fs::remove_file(dir.join("003_broken.up.sql"))?;
        std::fs::remove_file(dir.join("003_broken.down.sql"))?;
        let all = schemadiff::migrations::read_dir(&dir)?;
        std::fs::write(dir.join("schemadiff.sum"), schemadiff::migrations::sum_text(&all))?;
        let o = bin(d, &["down", "--database-url", &db.url]);
        ensure(o.status.success(), text(&o))?;
        let o = status(d);
        let out = text(&o);
        let reverted = regex::Regex::new(r"rolled back  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d").unwrap();
        ensure(
            o.status.success() && reverted.is_match(&out) && out.contains("No drift"),
            out.clone(),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// `kill -9` of `plan` leaves its cluster running in its temp directory, and a dev server's
/// scratch databases of a dead run stay; the next run removes both, and nothing a live run
/// owns.
fn killed_run_leftovers(server: &TestServer) -> Result<(), Failed> {
    use std::os::unix::fs::PermissionsExt;
    block_on(async {
        let work = Workdir::new();
        // The shadow sleeps while it loads this, so the run can be killed with its cluster up.
        work.write_schema("contacts.sql", &format!("{CONTACTS_V1}SELECT pg_sleep(30);\n"));
        let tmp = tempfile::tempdir()?;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
        let run = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_schemadiff"));
            command
                .args(args)
                .current_dir(work.path())
                .env("TMPDIR", tmp.path())
                .env_remove("DATABASE_URL")
                .env_remove("SCHEMADIFF_DEV_URL");
            command
        };
        let mut child = run(&["plan"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        // The server's pid file, once it accepts connections (initdb's single-user runs
        // write one too, with a negative pid).
        let postmaster = |dir: &Path| {
            std::fs::read_to_string(dir.join("data/postmaster.pid"))
                .ok()
                .filter(|text| text.contains("ready") && !text.starts_with('-'))
        };
        let started = std::time::Instant::now();
        let cluster = loop {
            let found = std::fs::read_dir(tmp.path())?
                .flatten()
                .map(|e| e.path())
                .find(|p| postmaster(p).is_some());
            if let Some(dir) = found {
                break dir;
            }
            ensure(started.elapsed().as_secs() < 60, "the run never started its cluster")?;
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let server_pid: i32 =
            postmaster(&cluster).unwrap().lines().next().unwrap().trim().parse()?;
        child.kill()?;
        child.wait()?;
        let running =
            |pid: i32| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        ensure(
            running(server_pid) && cluster.exists(),
            format!(
                "kill -9 should leave the cluster (the case this cleans): {} {server_pid} {}",
                cluster.display(),
                running(server_pid)
            ),
        )?;

        // A dead run's scratch database on the dev server, and one of a live run (this one).
        // No process has a pid of pid_max (a just-exited child's pid may be reused at once
        // on a busy machine), and this process's own scratch databases never count that far.
        let dead: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")?.trim().parse()?;
        let admin = schemadiff::connect::connect_url(server.admin_url()).await?;
        let (dead_db, live_db) = (
            format!("schemadiff_desired_{dead}_0"),
            format!("schemadiff_desired_{}_999999999", std::process::id()),
        );
        for db in [&dead_db, &live_db] {
            admin.batch_execute(&format!("CREATE DATABASE {db}")).await?;
        }

        work.write_schema("contacts.sql", CONTACTS_V1);
        let o = output_within(run(&["plan"]), BIN_DEADLINE);
        ensure(o.status.success(), text(&o))?;
        // Without the suite's cache: a verdict another test with the same files remembered
        // would answer `check` without reaching the dev server, where the sweep runs.
        let mut check = run(&["check", "--dev-url", server.admin_url()]);
        check.env("SCHEMADIFF_CACHE_DIR", "");
        let o = output_within(check, BIN_DEADLINE);
        ensure(o.status.success(), text(&o))?;
        ensure(!cluster.exists(), format!("{} is left", cluster.display()))?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while running(server_pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        ensure(!running(server_pid), "the dead run's server still runs")?;
        let left: Vec<String> = (admin
            .query(
                "SELECT datname FROM pg_database WHERE datname IN ($1, $2)",
                &[&dead_db, &live_db],
            )
            .await?)
            .iter()
            .map(|r| r.get(0))
            .collect();
        ensure(left == [live_db.clone()], format!("scratch databases left: {left:?}"))?;
        admin.batch_execute(&format!("DROP DATABASE {live_db}")).await?;
        Ok(())
    })
}

/// `--format json`: one JSON document on standard output per command, with the facts the
/// text gives and, on failure, the error and exit code; no escape codes, no progress when
/// standard error is not a terminal.
fn json_output(server: &TestServer) -> Result<(), Failed> {
    block_on(async {
        let work = Workdir::new();
        let db = server.fresh_database("json").await;
        let d = work.path();
        let dev = server.admin_url();
        let json = |o: &std::process::Output| -> Result<serde_json::Value, Failed> {
            ensure(!text(o).contains('\u{1b}'), format!("escape codes in {}", text(o)))?;
            serde_json::from_slice(&o.stdout)
                .map_err(|e| format!("not JSON ({e}): {}", text(o)).into())
        };
        work.write_schema("contacts.sql", CONTACTS_V1);
        let o = bin(d, &["plan", "--dev-url", dev, "--format", "json"]);
        let plan = json(&o)?;
        ensure(
            o.status.success() && plan["ok"] == true && plan["command"] == "plan",
            plan.to_string(),
        )?;
        let m = &plan["migrations"][0];
        ensure(
            m["id"] == "001_create_contacts"
                && m["steps"][0]["sql"][0]
                    .as_str()
                    .is_some_and(|s| s.starts_with("CREATE TABLE public.contacts"))
                && m["up_path"].as_str().is_some_and(|p| p.ends_with("001_create_contacts.up.sql")),
            plan.to_string(),
        )?;
        work.write_schema("contacts.sql", CONTACTS_V2);
        let o = bin(d, &["plan", "--dev-url", dev, "--format", "json", "--dry-run"]);
        let plan = json(&o)?;
        ensure(
            plan["dry_run"] == true && plan["migrations"][0]["up_path"].is_null(),
            plan.to_string(),
        )?;

        let o = bin(d, &["apply", "--database-url", &db.url, "--format", "json"]);
        let applied = json(&o)?;
        ensure(
            o.status.success() && applied["applied"][0]["id"] == "001_create_contacts",
            applied.to_string(),
        )?;
        ensure(
            String::from_utf8_lossy(&o.stderr).trim().is_empty(),
            format!("progress without a terminal: {}", text(&o)),
        )?;
        let o =
            bin(d, &["status", "--database-url", &db.url, "--dev-url", dev, "--format", "json"]);
        let status = json(&o)?;
        ensure(
            status["migrations"][0]["state"] == "applied"
                && status["drift"].is_null()
                && status["ok"] == true,
            status.to_string(),
        )?;
        let o = bin(d, &["down", "--database-url", &db.url, "--dry-run", "--format", "json"]);
        let down = json(&o)?;
        ensure(down["would_run"][0]["id"] == "001_create_contacts", down.to_string())?;
        work.write_schema("contacts.sql", CONTACTS_V1);
        let o = bin(d, &["check", "--dev-url", dev, "--format", "json"]);
        let check = json(&o)?;
        ensure(check["in_sync"] == true, check.to_string())?;

        // A failure: the document says so, with the exit code the process exits with.
        db.client.batch_execute("ALTER TABLE contacts ADD COLUMN hack int").await?;
        let o =
            bin(d, &["status", "--database-url", &db.url, "--dev-url", dev, "--format", "json"]);
        let status = json(&o)?;
        ensure(
            o.status.code() == Some(1)
                && status["ok"] == false
                && status["exit_code"] == 1
                && status["drift"]["sql"][0] == "ALTER TABLE public.contacts DROP COLUMN hack;",
            status.to_string(),
        )?;
        let o = bin(
            d,
            &["apply", "--database-url", "postgresql://nobody@127.0.0.1:1/x", "--format", "json"],
        );
        let failed = json(&o)?;
        ensure(
            o.status.code() == Some(1)
                && failed["error"].as_str().is_some_and(|e| e.starts_with("cannot connect to")),
            failed.to_string(),
        )?;
        server.drop_database(db).await;
        Ok(())
    })
}

/// `bin` with its own cache directory.
fn bin_cached(dir: &Path, cache: &Path, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"));
    command.args(args).current_dir(dir).env_remove("DATABASE_URL").env_remove("SCHEMADIFF_DEV_URL");
    command.env("SCHEMADIFF_CACHE_DIR", cache);
    output_within(command, BIN_DEADLINE)
}

fn verdicts(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("in-sync")).map_or(0, |d| d.count())
}

fn in_sync_remembered(_server: &TestServer) -> Result<(), Failed> {
    let work = copy_example();
    let cache = tempfile::tempdir()?;
    let o = bin_cached(work.path(), cache.path(), &["check"]);
    ensure(o.status.success(), text(&o))?;
    ensure(verdicts(cache.path()) == 1, "the in-sync state is remembered")?;
    let o = bin_cached(work.path(), cache.path(), &["plan"]);
    ensure(o.status.success() && text(&o).contains("No changes"), text(&o))?;
    ensure(verdicts(cache.path()) == 1, "plan reuses check's verdict")?;
    // Any byte of schema/ is an input, even one PostgreSQL ignores: checked again.
    let path = work.schema_dir().join("10_contacts.sql");
    let commented = format!("-- who owns it: sales\n{}", std::fs::read_to_string(&path)?);
    std::fs::write(&path, &commented)?;
    let o = bin_cached(work.path(), cache.path(), &["check"]);
    ensure(o.status.success(), text(&o))?;
    ensure(verdicts(cache.path()) == 2, "a new state, a new verdict")?;
    // A verdict is never reused for other files: the change is found.
    std::fs::write(&path, commented.replace("    phone VARCHAR(50),\n", ""))?;
    for args in [&["check"][..], &["plan", "--dry-run"]] {
        let o = bin_cached(work.path(), cache.path(), args);
        ensure(text(&o).contains("phone"), text(&o))?;
    }
    ensure(verdicts(cache.path()) == 2, "nothing remembered for a state out of sync")
}

/// A state found in sync before is not parsed again, yet says what it said the first time:
/// the data statements in `schema/`, which only the parse finds.
fn in_sync_keeps_data_note(_server: &TestServer) -> Result<(), Failed> {
    let work = copy_example();
    std::fs::write(work.schema_dir().join("99_seed.sql"), "DELETE FROM contacts WHERE false;\n")?;
    let cache = tempfile::tempdir()?;
    let note = "99_seed.sql:1:1: DELETE FROM contacts";
    for args in [&["check"][..], &["check"], &["plan"]] {
        let o = bin_cached(work.path(), cache.path(), args);
        ensure(o.status.success() && text(&o).contains(note), text(&o))?;
        ensure(verdicts(cache.path()) == 1, "one state, one verdict")?;
    }
    Ok(())
}

fn cached_initdb(_server: &TestServer) -> Result<(), Failed> {
    let work = Workdir::new();
    work.write_schema("contacts.sql", CONTACTS_V1);
    let cache = tempfile::tempdir()?;
    let o = bin_cached(work.path(), cache.path(), &["plan", "--dry-run"]);
    ensure(o.status.success(), text(&o))?;
    let kept: Vec<_> = std::fs::read_dir(cache.path())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("initdb-"))
        .collect();
    ensure(kept.len() == 1, format!("one data directory kept: {kept:?}"))?;
    ensure(kept[0].path().join("PG_VERSION").is_file(), "a whole data directory")?;
    // The next cluster is a copy of it, and works.
    let o = bin_cached(work.path(), cache.path(), &["plan"]);
    ensure(o.status.success(), text(&o))?;
    ensure(work.migrations_dir().join("001_create_contacts.up.sql").exists(), "file written")?;

    // A run leaves the next a spare copy, made after it exits, which the next takes whole
    // (and leaves another). A private TMPDIR, readable by the postgres user: no other
    // test's run takes this one's spare.
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    let spares = || {
        let mut all = files(tmp.path());
        all.retain(|f| f.starts_with("schemadiff-spare-"));
        all
    };
    // Each time with no verdict remembered, which would answer without a cluster.
    let check = || {
        let _ = std::fs::remove_dir_all(cache.path().join("in-sync"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_schemadiff"));
        command.args(["check"]).current_dir(work.path()).env("TMPDIR", tmp.path());
        command.env_remove("DATABASE_URL").env_remove("SCHEMADIFF_DEV_URL");
        command.env("SCHEMADIFF_CACHE_DIR", cache.path());
        output_within(command, BIN_DEADLINE)
    };
    let o = check();
    ensure(o.status.success(), text(&o))?;
    ensure(eventually(|| spares().len() == 1), format!("one spare: {:?}", files(tmp.path())))?;
    let spare = spares();
    let o = check();
    ensure(o.status.success(), text(&o))?;
    ensure(
        eventually(|| spares().len() == 1 && spares() != spare),
        format!("the spare taken and another left: {spare:?}, then {:?}", files(tmp.path())),
    )
}
