//! The shadow's major version matches the target's: with a live database and no `--dev-url`,
//! the ephemeral cluster starts from server binaries of the database's major version, and when
//! this machine has none the plan's note names the version missing. The matrix
//! (`scripts/matrix`) runs these on every supported version; on the default one the second
//! has nothing to show and is ignored.

use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::support::{TestServer, Workdir, block_on, ensure, text};

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let major = server.major();
    let default_major =
        schemadiff::shadow::find_bindir().and_then(|d| schemadiff::shadow::bindir_major(&d));
    let s = server.clone();
    let matching = Trial::test("version::the_shadow_is_the_databases_major_version", move || {
        matching(&s, major)
    });
    let s = server.clone();
    let missing = Trial::test("version::a_missing_version_is_named", move || {
        missing(&s, major, default_major)
    })
    .with_ignored_flag(default_major == Some(major));
    vec![matching, missing]
}

const SCHEMA: &str =
    "CREATE TABLE parcels (id bigint PRIMARY KEY, weight_grams integer NOT NULL);\n";

fn plan_without_dev_url(
    server: &TestServer,
    label: &str,
    env: &[(&str, &std::path::Path)],
    extra: &[&str],
) -> Result<std::process::Output, Failed> {
    let db = block_on(server.fresh_database(label));
    let work = Workdir::new();
    work.write_schema("schema.sql", SCHEMA);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"));
    command
        .args(["plan", "--database-url", &db.url, "--name", "parcels"])
        .args(extra)
        .current_dir(work.path())
        .env_remove("DATABASE_URL")
        .env_remove("SCHEMADIFF_DEV_URL");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = crate::support::output_within(command, crate::support::BIN_DEADLINE);
    ensure(out.status.success(), format!("plan failed:\n{}", text(&out)))?;
    let written = std::fs::read_dir(work.migrations_dir())
        .map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "sql")).count())
        .unwrap_or(0);
    ensure(written == 2, format!("plan wrote {written} files, not up and down:\n{}", text(&out)))?;
    block_on(server.drop_database(db));
    Ok(out)
}

fn matching(server: &TestServer, major: u32) -> Result<(), Failed> {
    let out = plan_without_dev_url(server, "version_matching", &[], &[])?;
    ensure(
        !text(&out).contains("the shadow"),
        format!(
            "PostgreSQL {major}'s binaries are here, yet the plan notes a shadow of another version:\n{}",
            text(&out)
        ),
    )
}

fn missing(server: &TestServer, major: u32, default_major: Option<u32>) -> Result<(), Failed> {
    // Installed versions looked for in an empty directory only: the target's is missing.
    let empty = tempfile::tempdir()?;
    let out = plan_without_dev_url(
        server,
        "version_missing",
        &[("SCHEMADIFF_POSTGRES_DIR", empty.path())],
        // A newer shadow's `public` schema may grant less (PostgreSQL 15 took CREATE from
        // PUBLIC): one more sign that an exact check needs the database's own version.
        &["--allow-hazards", "AUTHZ_UPDATE"],
    )?;
    let shown = text(&out);
    let default_major = default_major.ok_or("no default server binaries")?;
    for expected in [
        format!("the database is PostgreSQL {major} but the shadow is {default_major}"),
        format!("no PostgreSQL {major} server binaries on this machine"),
        format!("scripts/install-postgres {major}"),
    ] {
        ensure(shown.contains(&expected), format!("the note lacks {expected:?}:\n{shown}"))?;
    }
    Ok(())
}
