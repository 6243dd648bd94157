//! The outside measure: other projects' schema-diff cases (migra, sqldef) and real-world
//! schemas from `../shared/corpus`, each round-tripped like a fixture: up reaches to.sql's
//! catalog, a second plan is empty, down brings from.sql's back. The checked-in list of
//! expected failures holds the suite: a case outside it that fails, or a listed case that
//! now passes, fails its trial, so the list only shrinks. CI runs every migra and real-world
//! case and a fixed sample of sqldef; `SCHEMADIFF_CONFORMANCE=full` runs all of sqldef.
//! `SCHEMADIFF_CONFORMANCE_REPORT=<file>` appends one line per case for `scripts/conformance`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::Trial;

use crate::fixtures::{Expect, Sources, round_trip_sql};
use crate::support::{TestServer, block_on};

/// Every sqldef case of the sample is the n-th of the loadable ones.
const SQLDEF_SAMPLE_EVERY: usize = 4;

struct Case {
    corpus: &'static str,
    name: String,
    sources: Sources,
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

fn expected_failures() -> BTreeMap<String, String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance_expected_failures.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((case, reason)) => (case.to_string(), reason.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

pub fn trials(server: &Arc<TestServer>) -> Vec<Trial> {
    let root = corpus_root();
    if !root.exists() {
        eprintln!("note: {} is missing; the conformance cases are skipped", root.display());
        return Vec::new();
    }
    let expected = Arc::new(expected_failures());
    let mut cases = migra(&root);
    cases.extend(sqldef(&root, std::env::var("SCHEMADIFF_CONFORMANCE").as_deref() == Ok("full")));
    cases.extend(realworld(&root));
    cases
        .into_iter()
        .map(|case| {
            let (server, expected) = (server.clone(), expected.clone());
            let id = format!("{}/{}", case.corpus, case.name);
            Trial::test(format!("conformance::{}::{}", case.corpus, case.name), move || {
                block_on(async {
                    let expect = Expect { hazards: None, snapshot: None, case_toml: None };
                    let result = round_trip_sql(&server, &case.sources, &expect, &case.name).await;
                    report(&id, &result);
                    match (result, expected.get(&id)) {
                        (Ok(()), None) | (Err(_), Some(_)) => Ok(()),
                        (Ok(()), Some(_)) => Err(format!(
                            "{id} passes now: remove it from tests/conformance_expected_failures.txt"
                        )
                        .into()),
                        (Err(e), None) => Err(e.into()),
                    }
                })
            })
        })
        .collect()
}

fn report(id: &str, result: &Result<(), String>) {
    let Ok(path) = std::env::var("SCHEMADIFF_CONFORMANCE_REPORT") else { return };
    let line = match result {
        Ok(()) => format!("{id}\tpass\t\n"),
        Err(e) => format!("{id}\tfail\t{}\n", e.lines().next().unwrap_or("")),
    };
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(line.as_bytes());
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn name_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// A case from `from` to `to`, named after its folder.
fn case(corpus: &'static str, dir: &Path, from: String, to: String) -> Case {
    Case { corpus, name: name_of(dir), sources: Sources { from, to, data: None, check: None } }
}

fn migra(root: &Path) -> Vec<Case> {
    case_dirs(&root.join("migra"))
        .into_iter()
        .filter(|d| d.join("to.sql").exists())
        .map(|d| case("migra", &d, read(&d.join("from.sql")), read(&d.join("to.sql"))))
        .collect()
}

/// The sqldef cases that load verbatim on PostgreSQL 15 and need no other flavour, a
/// non-superuser, a newer server or an expected error.
fn sqldef(root: &Path, full: bool) -> Vec<Case> {
    let dir = root.join("sqldef");
    let loads: BTreeMap<String, bool> = read(&dir.join("loads_pg15.tsv"))
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some((f.first()?.to_string(), f.get(1)? == &"1" && f.get(2)? == &"1"))
        })
        .collect();
    let loadable: Vec<PathBuf> = case_dirs(&dir)
        .into_iter()
        .filter(|d| loads.get(&name_of(d)).copied().unwrap_or(false))
        .filter(|d| {
            let meta: serde_json::Value =
                serde_json::from_str(&read(&d.join("case.json"))).unwrap_or_default();
            let set = |k: &str| !meta[k].is_null() && meta[k] != false;
            let newer = meta["min_version"]
                .as_str()
                .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
                .is_some_and(|v| v > 15);
            !(set("flavor") || set("user") || set("offline") || set("error") || newer)
                && meta["expect"] != "error"
        })
        .collect();
    loadable
        .into_iter()
        .enumerate()
        .filter(|(i, _)| full || i % SQLDEF_SAMPLE_EVERY == 0)
        .map(|(_, d)| case("sqldef", &d, read(&d.join("from.sql")), read(&d.join("to.sql"))))
        .collect()
}

/// Real-world schemas, planned from an empty database.
fn realworld(root: &Path) -> Vec<Case> {
    case_dirs(&root.join("realworld"))
        .into_iter()
        .filter(|d| d.join("schema.sql").exists())
        .map(|d| case("realworld", &d, String::new(), read(&d.join("schema.sql"))))
        .collect()
}
