//! One folder, many databases: `apply` and `status` over a fleet of targets (a database per
//! tenant or shard), a bounded number at a time.
//!
//! Each target is an ordinary run with its own sessions, lock and history, so a fleet run
//! that stops (a failure, Ctrl-C, a kill) leaves every target where a single run would, and
//! the next fleet run takes each one on from there.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::{self, StreamExt};

use super::{Contracts, HistoryTable, RunReport, Session, State, Waits};
use crate::connect::ConnInfo;
use crate::error::{Error, Result};
use crate::migrations::Migration;

/// One database of the fleet.
#[derive(Debug, Clone)]
pub struct Target {
    /// How messages name it: database, host and port, never the password.
    pub name: String,
    pub info: ConnInfo,
}

/// The targets named by repeated `--database-url` and by a file of connection strings, one
/// per line (blank lines and `#` comments are skipped). A string that does not parse, or a
/// database named twice, is refused with where it was written.
pub fn targets(urls: &[String], file: Option<&Path>) -> Result<Vec<Target>> {
    let mut written: Vec<(String, String)> = (urls.iter().enumerate())
        .map(|(i, url)| (format!("--database-url #{}", i + 1), url.clone()))
        .collect();
    if let Some(file) = file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::Usage(format!("cannot read targets from {}: {e}", file.display()))
        })?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                written.push((format!("{}:{}", file.display(), n + 1), line.to_string()));
            }
        }
    }
    let mut out: Vec<(String, Target)> = Vec::new();
    for (place, text) in written {
        let info = ConnInfo::parse(&text).map_err(|e| {
            Error::Usage(format!("{place}: not a valid connection string: {}", e.0))
        })?;
        let name = name_of(&info);
        if let Some((first, _)) = out.iter().find(|(_, t)| t.name == name) {
            return Err(Error::Usage(format!(
                "{place}: {name} is already a target ({first}); each database is migrated once"
            )));
        }
        out.push((place, Target { name, info }));
    }
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

/// `dbname on host:port`, as the connection would resolve them.
fn name_of(info: &ConnInfo) -> String {
    let full = info.completed();
    let db = full.get("dbname").unwrap_or("postgres");
    let hosts: Vec<String> = (full.hosts().into_iter())
        .map(|(host, port)| match host.starts_with('/') {
            true => format!("{host}/.s.PGSQL.{port}"),
            false => format!("{host}:{port}"),
        })
        .collect();
    format!("{db} on {}", hosts.join(","))
}

/// How a fleet run goes.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Targets migrated at once (each holds three sessions while it runs).
    pub parallel: usize,
    /// Go on with the other targets after one fails; otherwise start no new one.
    pub keep_going: bool,
    pub contracts: Contracts,
    pub waits: Waits,
    pub history: HistoryTable,
}

/// How one target's run ended.
#[derive(Debug)]
pub enum Outcome {
    /// It ran to its end: what it applied (or, dry, would apply), perhaps nothing.
    Done(RunReport),
    /// It stopped at an error; what it applied before that is committed and recorded.
    Failed(String),
    /// Not started: an earlier target failed (without `keep_going`) or the run was
    /// interrupted.
    NotStarted,
}

/// One target after the fleet run.
#[derive(Debug)]
pub struct TargetRun {
    pub target: String,
    pub outcome: Outcome,
    /// The newest migration applied there after the run, when it could be read.
    pub at: Option<String>,
}

/// What a fleet run tells as it goes, for a progress bar and lines as targets finish.
pub enum FleetEvent<'e> {
    /// A target's run waits for another run's migration lock.
    Waiting {
        target: &'e str,
        message: &'e str,
    },
    Started(&'e str),
    Finished(&'e TargetRun),
}

/// Applies the pending migrations to every target, `settings.parallel` at a time; the runs
/// come back in the targets' order.
pub async fn apply(
    targets: &[Target],
    migrations: &[Migration],
    settings: &Settings,
    tell: &(dyn Fn(FleetEvent<'_>) + Sync),
) -> Vec<TargetRun> {
    let stop = AtomicBool::new(false);
    let runs = stream::iter(targets.iter().enumerate())
        .map(|(i, target)| {
            let stop = &stop;
            async move {
                if stop.load(Ordering::SeqCst) || crate::interrupt::requested() {
                    let run = TargetRun {
                        target: target.name.clone(),
                        outcome: Outcome::NotStarted,
                        at: None,
                    };
                    return (i, run);
                }
                tell(FleetEvent::Started(&target.name));
                let run = apply_one(target, migrations, settings, tell).await;
                if matches!(run.outcome, Outcome::Failed(_)) && !settings.keep_going {
                    stop.store(true, Ordering::SeqCst);
                }
                tell(FleetEvent::Finished(&run));
                (i, run)
            }
        })
        .buffer_unordered(settings.parallel.max(1))
        .collect::<Vec<_>>()
        .await;
    in_order(runs)
}

fn in_order<T>(mut runs: Vec<(usize, T)>) -> Vec<T> {
    runs.sort_by_key(|(i, _)| *i);
    runs.into_iter().map(|(_, r)| r).collect()
}

async fn apply_one(
    target: &Target,
    migrations: &[Migration],
    settings: &Settings,
    tell: &(dyn Fn(FleetEvent<'_>) + Sync),
) -> TargetRun {
    let sessions = async {
        let client = crate::connect::connect_info(&target.info).await?;
        let lock = crate::connect::connect_info(&target.info).await?;
        let watcher = crate::connect::connect_info(&target.info).await?;
        Ok::<_, Error>((client, lock, watcher))
    };
    let (client, lock, watcher) = match sessions.await {
        Ok(sessions) => sessions,
        Err(e) => {
            let outcome = Outcome::Failed(e.to_string());
            return TargetRun { target: target.name.clone(), outcome, at: None };
        }
    };
    let on_wait = |message: &str| tell(FleetEvent::Waiting { target: &target.name, message });
    let session = Session {
        client: &client,
        lock_session: Some(&lock),
        watcher: Some(&watcher),
        waits: settings.waits.clone(),
        on_wait: Some(&on_wait),
        history: settings.history.clone(),
        on_event: None,
    };
    let outcome = match super::apply_with(&session, migrations, &settings.contracts).await {
        Ok(report) => Outcome::Done(report),
        Err(e) => Outcome::Failed(e.to_string()),
    };
    let at = newest_applied(&client, &settings.history, migrations).await;
    TargetRun { target: target.name.clone(), outcome, at }
}

/// The id of the newest migration the history records as applied.
async fn newest_applied(
    client: &tokio_postgres::Client,
    table: &HistoryTable,
    migrations: &[Migration],
) -> Option<String> {
    let history = super::history(client, table).await.ok()?;
    let states = super::states(migrations, &history);
    (states.into_iter().rev()).find(|(_, _, s)| *s == State::Applied).map(|(_, id, _)| id)
}

/// Where one target stands.
#[derive(Debug)]
pub struct TargetStatus {
    pub target: String,
    /// Why it could not be read (unreachable, no permission); the rest is then empty.
    pub unreachable: Option<String>,
    /// The newest migration applied.
    pub at: Option<String>,
    /// Migrations of the folder it has not applied.
    pub pending: Vec<String>,
    /// What needs a person: failed or partly applied migrations, changed or missing files.
    pub troubles: Vec<String>,
}

/// Reads where every target stands, `parallel` at a time, in the targets' order.
pub async fn status(
    targets: &[Target],
    migrations: &[Migration],
    table: &HistoryTable,
    parallel: usize,
) -> Vec<TargetStatus> {
    let read = stream::iter(targets.iter().enumerate())
        .map(|(i, target)| async move {
            let mut status = TargetStatus {
                target: target.name.clone(),
                unreachable: None,
                at: None,
                pending: Vec::new(),
                troubles: Vec::new(),
            };
            let history = match crate::connect::connect_info(&target.info).await {
                Ok(client) => super::history(&client, table).await,
                Err(e) => Err(e),
            };
            match history {
                Ok(history) => describe(&mut status, migrations, &history),
                Err(e) => status.unreachable = Some(e.to_string()),
            }
            (i, status)
        })
        .buffer_unordered(parallel.max(1))
        .collect::<Vec<_>>()
        .await;
    in_order(read)
}

fn describe(
    status: &mut TargetStatus,
    migrations: &[Migration],
    history: &std::collections::BTreeMap<u32, super::HistoryRow>,
) {
    for (_, id, state) in super::states(migrations, history) {
        match state {
            State::Applied => status.at = Some(id),
            State::Pending | State::RolledBack => status.pending.push(id),
            State::Failed(message) => status
                .troubles
                .push(format!("{id} failed: {}", message.lines().next().unwrap_or_default())),
            State::Partial(parts) => {
                status.troubles.push(format!("{id} partly applied ({parts} part(s) committed)"))
            }
            State::Modified => status.troubles.push(format!("{id} changed after it was applied")),
            State::Missing => status.troubles.push(format!("{id}'s file is missing")),
        }
    }
}
