//! The conformance cases in `fixtures/cases/<name>/`: from.sql -> to.sql and back, for real.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use schemadiff::config::Config;
use schemadiff::plan::HazardCode;
use schemadiff::{Error, PlanRequest, apply, introspect, migrations};

use crate::support::{TestServer, Workdir, block_on};

#[derive(serde::Deserialize, Default)]
struct CaseMeta {
    #[serde(default)]
    hazards: Vec<String>,
    /// The oldest PostgreSQL major version that takes the case's SQL.
    min_version: Option<u32>,
}

fn case_meta(case: &Path) -> Result<CaseMeta, String> {
    match std::fs::read_to_string(case.join("case.toml")) {
        Ok(t) => toml::from_str(&t).map_err(|e| format!("case.toml: {e}")),
        Err(_) => Ok(CaseMeta::default()),
    }
}

pub fn trials(server: &Arc<TestServer>) -> Vec<libtest_mimic::Trial> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cases");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures/cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("to.sql").exists())
        .collect();
    cases.sort();
    let major = server.major();
    cases
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let too_new = case_meta(&case).ok().and_then(|m| m.min_version).filter(|v| major < *v);
            let server = server.clone();
            libtest_mimic::Trial::test(format!("fixture::{name}"), move || {
                block_on(round_trip(&server, &case, &name)).map_err(Into::into)
            })
            .with_ignored_flag(too_new.is_some())
        })
        .collect()
}

/// Load from.sql, plan to to.sql, apply, compare, plan again (empty), down, compare.
async fn round_trip(server: &TestServer, case: &Path, name: &str) -> Result<(), String> {
    let read = |f: &str| std::fs::read_to_string(case.join(f)).ok();
    let meta = case_meta(case)?;
    let sources = Sources {
        from: read("from.sql").unwrap_or_default(),
        to: read("to.sql").ok_or("to.sql is missing")?,
        data: read("data.sql"),
        check: read("check.sql"),
    };
    let expect = Expect {
        hazards: Some(meta.hazards.iter().cloned().collect()),
        snapshot: Some(format!("fixture_{name}")),
        case_toml: std::env::var_os("SCHEMADIFF_UPDATE_HAZARDS").map(|_| case.join("case.toml")),
    };
    round_trip_sql(server, &sources, &expect, name).await
}

/// The SQL of one round trip.
pub struct Sources {
    pub from: String,
    pub to: String,
    pub data: Option<String>,
    pub check: Option<String>,
}

/// What a round trip holds the plan to beyond converging both ways.
pub struct Expect {
    /// The hazard codes the plan must raise (and refuse for until allowed); `None` allows
    /// whatever it raises.
    pub hazards: Option<BTreeSet<String>>,
    /// The insta snapshot the up and down files must match.
    pub snapshot: Option<String>,
    /// With `SCHEMADIFF_UPDATE_HAZARDS` set, the case.toml to write the raised hazards to
    /// instead of failing (review the change as a snapshot).
    pub case_toml: Option<std::path::PathBuf>,
}

/// Records the hazards a fixture raises in its case.toml.
fn write_hazards(case_toml: &Path, raised: &BTreeSet<String>) {
    let min_version =
        case_toml.parent().and_then(|c| case_meta(c).ok()).and_then(|m| m.min_version);
    let mut text = String::new();
    if let Some(v) = min_version {
        text.push_str(&format!("min_version = {v}\n"));
    }
    if !raised.is_empty() {
        let list: Vec<String> = raised.iter().map(|c| format!("{c:?}")).collect();
        text.push_str(&format!("hazards = [{}]\n", list.join(", ")));
    }
    if text.is_empty() {
        let _ = std::fs::remove_file(case_toml);
    } else {
        std::fs::write(case_toml, text).unwrap();
    }
}

/// The round trip over SQL texts: what fixtures and the outside corpora share.
pub async fn round_trip_sql(
    server: &TestServer,
    sources: &Sources,
    expect: &Expect,
    name: &str,
) -> Result<(), String> {
    server.ensure_harness_roles().await;
    let from = server.fresh_database(&format!("{name}_from")).await;
    let to = server.fresh_database(&format!("{name}_to")).await;
    let result = async {
        load(&from.client, "from.sql", &sources.from).await?;
        if let Some(data) = &sources.data {
            load(&from.client, "data.sql", data).await?;
        }
        load(&to.client, "to.sql", &sources.to).await?;
        let before = introspect::introspect(&from.client).await.map_err(|e| e.to_string())?;
        let target = introspect::introspect(&to.client).await.map_err(|e| e.to_string())?;

        let work = Workdir::new();
        std::fs::write(work.schema_dir().join("schema.sql"), &sources.to).unwrap();
        let config = Config {
            database_url: Some(schemadiff::connect::parse(&from.url).unwrap()),
            dev_url: Some(schemadiff::connect::parse(server.admin_url()).unwrap()),
            schema_dir: work.schema_dir(),
            migrations_dir: work.migrations_dir(),
            exclude: Vec::new(),
            manage: Default::default(),
            refuse_data: false,
            timeouts: Default::default(),
            contract_after: None,
            waits: Default::default(),
            history_table: Default::default(),
        };
        let mut req = PlanRequest {
            config: config.clone(),
            name: None,
            allow_hazards: BTreeSet::new(),
            dry_run: false,
        };

        // Hazards the case expects must stop the plan until allowed; no others may appear.
        let outcome = match (schemadiff::plan(&req).await, &expect.hazards) {
            (Err(Error::HazardsNotAllowed { codes, .. }), expected) => {
                let raised: BTreeSet<String> = codes.split(',').map(str::to_string).collect();
                if let Some(toml) = &expect.case_toml
                    && expected.as_ref() != Some(&raised)
                {
                    write_hazards(toml, &raised);
                } else if expected.as_ref().is_some_and(|e| *e != raised) {
                    return Err(format!(
                        "plan raised hazards {raised:?}, the case expects {expected:?}"
                    ));
                }
                req.allow_hazards = raised.iter().filter_map(|c| HazardCode::parse(c)).collect();
                schemadiff::plan(&req)
                    .await
                    .map_err(|e| format!("plan with hazards allowed: {e}"))?
            }
            (Err(e), _) => return Err(format!("plan: {e}")),
            (Ok(o), Some(expected)) if !expected.is_empty() && expect.case_toml.is_some() => {
                write_hazards(expect.case_toml.as_ref().unwrap(), &BTreeSet::new());
                o
            }
            (Ok(o), Some(expected)) if !expected.is_empty() => {
                return Err(format!(
                    "plan did not refuse; the case expects hazards {expected:?}\n{}",
                    files(&o)
                ));
            }
            (Ok(o), _) => o,
        };
        if before == target && before.extension_versions_apart(&target).is_empty() {
            if !outcome.is_empty() {
                return Err(format!("identical schemas gave a plan:\n{}", files(&outcome)));
            }
            return Ok(());
        }
        if outcome.is_empty() || outcome.migrations.iter().any(|m| m.written.is_none()) {
            return Err("schemas differ but plan wrote nothing".into());
        }
        // With the tie-break shuffled the order differs by design, and another server version
        // prints its catalog text its own way (the snapshots are the default version's):
        // convergence is the test.
        let shuffled = std::env::var_os("SCHEMADIFF_TIEBREAK_SEED").is_some()
            || std::env::var_os("SCHEMADIFF_TEST_PG_MAJOR").is_some();
        if let Some(snapshot) = expect.snapshot.as_ref().filter(|_| !shuffled) {
            insta::assert_snapshot!(snapshot.as_str(), files(&outcome));
        }

        let all = migrations::read_dir(&config.migrations_dir).map_err(|e| e.to_string())?;
        apply::apply(&from.client, &all).await.map_err(|e| format!("apply: {e}"))?;
        let after = introspect::introspect(&from.client).await.map_err(|e| e.to_string())?;
        if after != target {
            return Err(format!(
                "up does not reach to.sql:\n{}",
                schemadiff::residual(&after, &target)
            ));
        }

        // check.sql, where a case has one, tests the data after up: every value it prints is 't'.
        if let Some(check) = &sources.check {
            let messages =
                from.client.simple_query(check).await.map_err(|e| {
                    format!("check.sql: {}", schemadiff::error::describe_db_error(&e))
                })?;
            for m in messages {
                if let tokio_postgres::SimpleQueryMessage::Row(row) = m
                    && row.get(0) != Some("t")
                {
                    return Err(format!("check.sql after up printed {:?}", row.get(0)));
                }
            }
        }

        let again = schemadiff::plan(&req).await.map_err(|e| format!("second plan: {e}"))?;
        if !again.is_empty() {
            return Err(format!("second plan is not empty:\n{}", files(&again)));
        }

        apply::down(&from.client, &all, all.len()).await.map_err(|e| format!("down: {e}"))?;
        let back = introspect::introspect(&from.client).await.map_err(|e| e.to_string())?;
        if back != before {
            return Err(format!(
                "down does not restore from.sql:\n{}",
                schemadiff::residual(&back, &before)
            ));
        }
        Ok(())
    }
    .await;
    server.drop_database(from).await;
    server.drop_database(to).await;
    result
}

/// The planned files, each up file then its down file, as a reviewer reads them.
fn files(outcome: &schemadiff::PlanOutcome) -> String {
    let pairs: Vec<String> =
        outcome.migrations.iter().map(|m| format!("{}\n{}", m.up_sql, m.down_sql)).collect();
    pairs.join("\n")
}

/// Runs a file statement by statement, as psql does (a `SET client_encoding` in it applies to
/// the statements after it), and leaves the session as it found it.
pub async fn load(client: &tokio_postgres::Client, file: &str, sql: &str) -> Result<(), String> {
    let statements =
        schemadiff::source::split_statements(Path::new(file), sql).map_err(|e| e.to_string())?;
    for s in statements {
        client
            .batch_execute(&s.sql)
            .await
            .map_err(|e| format!("{}: {}", s.location, schemadiff::error::describe_db_error(&e)))?;
    }
    client.batch_execute("RESET ALL").await.map_err(|e| format!("{file}: {e}"))
}
