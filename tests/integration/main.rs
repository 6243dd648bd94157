//! Integration tests against a real PostgreSQL, in one binary so that one server serves them
//! all and is stopped at the end (libtest-mimic runs the trials in parallel).

mod behaviour;
mod conformance;
mod fixtures;
mod fleet;
mod folder;
mod online;
mod production;
mod pull;
mod renames;
mod review;
mod support;
mod tls;
mod version;

use std::sync::Arc;

fn main() {
    // The suite's runs share one cache (initdb's data directory, verdicts) and leave the
    // user's alone. Set before any thread starts.
    let cache = tempfile::tempdir().expect("a temp dir");
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("SCHEMADIFF_CACHE_DIR", cache.path()) };
    let args = libtest_mimic::Arguments::from_args();
    let server = Arc::new(support::TestServer::start());
    let mut trials = fixtures::trials(&server);
    trials.extend(behaviour::trials(&server));
    trials.extend(conformance::trials(&server));
    trials.extend(renames::trials(&server));
    trials.extend(online::trials(&server));
    trials.extend(tls::trials());
    trials.extend(production::trials(&server));
    trials.extend(folder::trials(&server));
    trials.extend(fleet::trials(&server));
    trials.extend(pull::trials(&server));
    trials.extend(review::trials(&server));
    trials.extend(version::trials(&server));
    let conclusion = libtest_mimic::run(&args, trials);
    drop(server);
    drop(cache);
    conclusion.exit();
}
