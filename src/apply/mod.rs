//! Runs migrations against a database and records them: `apply`, `down`, `status`.
//!
//! One history table; an advisory lock around every run; each file in the transactions it
//! declares (one, unless a step cannot run inside one), so a failing file leaves none of a
//! transaction half-applied and is recorded as failed, not applied.

mod adopt;
pub mod fleet;
mod guard;
mod history;
mod session;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

pub use adopt::{TrackingTable, baseline, tracking_tables};
pub use history::HistoryTable;
pub use session::{Event, Session, Waits};

use crate::error::{Error, Result, describe_db_error};
use crate::migrations::Migration;
use crate::source::{char_position_to_offset, locate, split_with_parser};

/// One row of the history table.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub version: u32,
    pub name: String,
    pub checksum: String,
    pub status: String,
    pub applied_at: String,
    pub execution_ms: i64,
    pub error_message: Option<String>,
    /// Of a file that runs in parts, the parts that committed (until it is applied).
    pub groups_done: i32,
    /// When `down` reverted it.
    pub rolled_back_at: Option<String>,
    /// The transaction that recorded it applied (`txid_current()`), when known.
    pub applied_xid: Option<i64>,
}

/// Where one migration stands on a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Pending,
    Applied,
    Failed(String),
    /// Some parts of a file that runs in parts committed; `apply` resumes after them.
    Partial(i32),
    RolledBack,
    /// Applied, but the file changed since.
    Modified,
    /// Recorded as applied, but its file is gone.
    Missing,
}

/// Reads the history; empty when the table does not exist yet.
pub async fn history(client: &Client, table: &HistoryTable) -> Result<BTreeMap<u32, HistoryRow>> {
    let exists: bool = client
        .query_one(&format!("SELECT to_regclass({}) IS NOT NULL", table.literal()), &[])
        .await
        .map_err(Error::db("looking for the history table"))?
        .get(0);
    if !exists {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query(
            &table.sql("SELECT version, name, checksum, status, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'), \
             execution_ms, error_message, groups_done, to_char(rolled_back_at, 'YYYY-MM-DD HH24:MI:SS'), \
             applied_xid FROM {history} ORDER BY version"),
            &[],
        )
        .await
        .map_err(Error::db(format!("reading {table}")))?;
    Ok(rows
        .iter()
        .map(|r| {
            let version = r.get::<_, i32>(0) as u32;
            (
                version,
                HistoryRow {
                    version,
                    name: r.get(1),
                    checksum: r.get(2),
                    status: r.get(3),
                    applied_at: r.get(4),
                    execution_ms: r.get(5),
                    error_message: r.get(6),
                    groups_done: r.get(7),
                    rolled_back_at: r.get(8),
                    applied_xid: r.get(9),
                },
            )
        })
        .collect())
}

/// Each migration's state, plus history rows whose files are gone, in version order.
pub fn states(
    migrations: &[Migration],
    history: &BTreeMap<u32, HistoryRow>,
) -> Vec<(u32, String, State)> {
    let mut out: Vec<(u32, String, State)> = migrations
        .iter()
        .map(|m| {
            let state = match history.get(&m.version) {
                None => State::Pending,
                Some(h) if h.status == "applied" && h.checksum != m.checksum() => State::Modified,
                Some(h) if h.status == "applied" => State::Applied,
                Some(h) if h.status == "partial" => State::Partial(h.groups_done),
                Some(h) if h.status == "failed" => {
                    State::Failed(h.error_message.clone().unwrap_or_default())
                }
                Some(_) => State::RolledBack,
            };
            (m.version, m.id(), state)
        })
        .collect();
    for h in history.values() {
        if h.status == "applied" && !migrations.iter().any(|m| m.version == h.version) {
            out.push((h.version, format!("{:03}_{}", h.version, h.name), State::Missing));
        }
    }
    out.sort_by_key(|(v, _, _)| *v);
    out
}

/// Refuses a folder that disagrees with what the database has applied.
pub fn check_consistent(
    migrations: &[Migration],
    history: &BTreeMap<u32, HistoryRow>,
) -> Result<()> {
    for (_, id, state) in states(migrations, history) {
        match state {
            State::Modified => {
                return Err(Error::Migrations(format!(
                    "{id}.up.sql was changed after it was applied (its checksum differs from the \
                     history table's); restore the applied version and make the change in a new migration"
                )));
            }
            State::Missing => {
                return Err(Error::Migrations(format!(
                    "{id} is recorded as applied but its file is missing from the migrations directory; \
                     restore it from version control"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

async fn ensure_history(client: &Client, table: &HistoryTable) -> Result<()> {
    let mut sql =
        table.sql(include_str!("history.sql")).replace("{history_literal}", &table.literal());
    if *table != HistoryTable::default() {
        // Introspection knows it by this comment, wherever it is.
        sql.push_str(&format!(
            "\nCOMMENT ON TABLE {} IS 'schemadiff: migration history, written by apply';",
            table.sql_name()
        ));
    }
    // Schema `schemadiff` is schemadiff's own (never planned): made when missing. Another
    // schema is the team's, declared in schema/ like the rest.
    if table.0.schema == "schemadiff" {
        sql = format!("CREATE SCHEMA IF NOT EXISTS schemadiff;\n{sql}");
    }
    client.batch_execute(&sql).await.map_err(Error::db(format!("creating {table}")))
}

/// What one `apply` or `down` did: the migrations run, with milliseconds each.
#[derive(Debug, Default)]
pub struct RunReport {
    pub done: Vec<(String, i64)>,
    /// The contract migration `apply` stopped before (it was not asked to run contracts).
    pub waiting: Option<String>,
    /// With `dry_run`: each migration that would run and the SQL of its file, in order.
    pub would_run: Vec<(String, String)>,
    /// What the user should know (a failed migration `down` does not revert).
    pub notes: Vec<String>,
}

/// How `down` may go.
#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    /// Say what would run and run nothing.
    pub dry_run: bool,
    /// Run the steps marked `DELETES_DATA` even when the data they delete is there
    /// (`down --allow-hazards DELETES_DATA`); without it `down` stops before such a step.
    pub allow_deleting_data: bool,
}

/// Which of a rename's contract migrations `apply` runs.
#[derive(Debug, Clone, Default)]
pub struct Contracts {
    /// Every one (`apply --contract`).
    pub run: bool,
    /// Those whose expand (the migration before) was applied at least this long ago: an
    /// interval PostgreSQL reads, such as `7d`.
    pub after: Option<String>,
    /// Say what would run and run nothing (no lock, no history table made).
    pub dry_run: bool,
}

/// Applies every pending migration in order, contracts included; stops at the first failure.
pub async fn apply(client: &Client, migrations: &[Migration]) -> Result<RunReport> {
    let contracts = Contracts { run: true, after: None, dry_run: false };
    apply_with(&Session::new(client), migrations, &contracts).await
}

/// Applies the pending migrations in order, up to the first contract `contracts` does not
/// let run (the migrations after it were planned from the state after it); stops at the
/// first failure.
pub async fn apply_with(
    session: &Session<'_>,
    migrations: &[Migration],
    contracts: &Contracts,
) -> Result<RunReport> {
    if contracts.dry_run {
        // Read only: no lock, no history table made.
        return apply_locked(session, migrations, contracts).await;
    }
    session::lock(session).await?;
    let result = apply_locked(session, migrations, contracts).await;
    session::unlock(session).await;
    result
}

/// Whether `apply` may run `m` now: anything but a contract, and a contract when asked to or
/// once its expand is old enough.
async fn may_run(
    client: &Client,
    table: &HistoryTable,
    m: &Migration,
    contracts: &Contracts,
) -> Result<bool> {
    if !m.is_contract() || contracts.run {
        return Ok(true);
    }
    match &contracts.after {
        Some(after) => expand_is_old(client, table, m, after).await,
        None => Ok(false),
    }
}

/// Whether the expand before contract `m` was applied at least `after` ago.
async fn expand_is_old(
    client: &Client,
    table: &HistoryTable,
    m: &Migration,
    after: &str,
) -> Result<bool> {
    let expand = m.version as i32 - 1;
    let row = client
        .query_opt(
            &table.sql(
                "SELECT applied_at <= now() - $2::text::interval FROM {history} \
                 WHERE version = $1 AND status = 'applied'",
            ),
            &[&expand, &after],
        )
        .await
        .map_err(Error::db("reading when the expand migration was applied"))?;
    Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
}

async fn apply_locked(
    session: &Session<'_>,
    migrations: &[Migration],
    contracts: &Contracts,
) -> Result<RunReport> {
    let client = session.client;
    let table = &session.history;
    let run = RunContext::of(session).await?;
    if !contracts.dry_run {
        ensure_history(client, table).await?;
    }
    let history = history(client, table).await?;
    check_consistent(migrations, &history)?;
    let mut report = RunReport::default();
    for m in migrations {
        if history.get(&m.version).is_some_and(|h| h.status == "applied") {
            continue;
        }
        stop_if_interrupted(&report, m)?;
        if !may_run(client, table, m, contracts).await? {
            report.waiting = Some(m.id());
            break;
        }
        if contracts.dry_run {
            report.would_run.push((m.id(), m.up_sql.clone()));
            continue;
        }
        let started = Instant::now();
        let id = m.id();
        if let Some(tell) = session.on_event {
            tell(Event::Started(&id));
        }
        let (version, checksum) = (m.version as i32, m.checksum());
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&version, &m.name, &checksum];
        let progress = start_progress(client, table, m, history.get(&m.version)).await?;
        let record = table.sql(RECORD_APPLIED);
        let finish = Some((record.as_str(), &params[..]));
        match run_file(client, &run, &m.up_sql, &m.up_path, finish, progress).await {
            Ok(()) => {
                let ms = started.elapsed().as_millis() as i64;
                client
                    .execute(
                        &table.sql("UPDATE {history} SET execution_ms = $2 WHERE version = $1"),
                        &[&version, &ms],
                    )
                    .await
                    .map_err(Error::db("recording the migration's duration"))?;
                if let Some(tell) = session.on_event {
                    tell(Event::Finished(&id));
                }
                report.done.push((m.id(), ms));
            }
            Err(e) => {
                let ms = started.elapsed().as_millis() as i64;
                record_failure(client, table, m, ms, &e.to_string()).await?;
                let before: Vec<&str> = report.done.iter().map(|(id, _)| id.as_str()).collect();
                return Err(match before.is_empty() {
                    true => e,
                    false => with_notes(
                        e,
                        &[format!(
                            "this run applied {} before it, and they are recorded",
                            before.join(", ")
                        )],
                    ),
                });
            }
        }
    }
    Ok(report)
}

/// Reverts the last `count` applied migrations, newest first, with their down files.
pub async fn down(client: &Client, migrations: &[Migration], count: usize) -> Result<RunReport> {
    down_with(&Session::new(client), migrations, count, &DownOptions::default()).await
}

/// `down`, refusing more than is applied; nothing runs when it refuses.
pub async fn down_with(
    session: &Session<'_>,
    migrations: &[Migration],
    count: usize,
    options: &DownOptions,
) -> Result<RunReport> {
    if options.dry_run {
        return down_checked(session, migrations, count, options).await;
    }
    session::lock(session).await?;
    let result = down_checked(session, migrations, count, options).await;
    session::unlock(session).await;
    result
}

async fn down_checked(
    session: &Session<'_>,
    migrations: &[Migration],
    count: usize,
    options: &DownOptions,
) -> Result<RunReport> {
    let client = session.client;
    let history = history(client, &session.history).await?;
    check_consistent(migrations, &history)?;
    let applied: Vec<&Migration> = (migrations.iter().rev())
        .filter(|m| history.get(&m.version).is_some_and(|h| h.status == "applied"))
        .collect();
    if count > applied.len() {
        let ids: Vec<String> = applied.iter().map(|m| m.id()).collect();
        return Err(Error::Migrations(match applied.len() {
            0 => format!("down {count}: no migration is applied, so there is nothing to revert"),
            n => format!(
                "down {count}: only {n} migration(s) are applied ({}); `schemadiff down {n}` reverts them all",
                ids.join(", ")
            ),
        }));
    }
    let chosen = &applied[..count];
    let mut report = RunReport::default();
    // A failed migration left nothing applied: say so, and what `down` reverts instead.
    if let Some(failed) = history.values().rev().find(|h| h.status == "failed")
        && chosen.first().is_some_and(|m| m.version < failed.version)
    {
        report.notes.push(format!(
            "{:03}_{} failed ({}) and was not applied, so there is nothing of it to revert; down reverts {}, which applied",
            failed.version,
            failed.name,
            failed.error_message.as_deref().unwrap_or("").lines().next().unwrap_or(""),
            chosen.iter().map(|m| m.id()).collect::<Vec<_>>().join(", ")
        ));
    }
    for m in chosen {
        if m.down_sql.is_none() {
            return Err(Error::Migrations(format!(
                "{} has no down file, so it cannot be reverted",
                m.id()
            )));
        }
    }
    if options.dry_run {
        report.would_run =
            chosen.iter().map(|m| (m.id(), m.down_sql.clone().unwrap_or_default())).collect();
        return Ok(report);
    }
    for m in chosen {
        stop_if_interrupted(&report, m)?;
        let (Some(sql), Some(path)) = (&m.down_sql, &m.down_path) else { continue };
        let started = Instant::now();
        if let Some(tell) = session.on_event {
            tell(Event::Started(&m.id()));
        }
        let version = m.version as i32;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&version];
        let mut run = RunContext::of(session).await?;
        let since = history.get(&m.version).and_then(|h| h.applied_xid);
        run.guard_data = (!options.allow_deleting_data).then_some(since);
        let record = session.history.sql(RECORD_ROLLED_BACK);
        let finish = Some((record.as_str(), &params[..]));
        if let Err(e) = run_file(client, &run, sql, path, finish, None).await {
            let before: Vec<&str> = report.done.iter().map(|(id, _)| id.as_str()).collect();
            return Err(match before.is_empty() {
                true => e,
                false => with_notes(
                    e,
                    &[format!(
                        "this run reverted {} before it, and they are recorded",
                        before.join(", ")
                    )],
                ),
            });
        }
        let ms = started.elapsed().as_millis() as i64;
        report.done.push((m.id(), ms));
    }
    Ok(report)
}

/// Stops a run before `next` when the user asked it to, saying what this run completed.
fn stop_if_interrupted(report: &RunReport, next: &Migration) -> Result<()> {
    if !crate::interrupt::requested() {
        return Ok(());
    }
    let done: Vec<&str> = report.done.iter().map(|(id, _)| id.as_str()).collect();
    Err(Error::Interrupted(match done.as_slice() {
        [] => format!("interrupted before {} started; this run completed nothing", next.id()),
        done => format!(
            "interrupted before {} started; this run completed {}, and they are recorded",
            next.id(),
            done.join(", ")
        ),
    }))
}

/// A statement to run in the same transaction as a file's last part, such as its history row.
pub type Finish<'a> = (&'a str, &'a [&'a (dyn tokio_postgres::types::ToSql + Sync)]);

/// Runs a migration file; an error names file:line with PostgreSQL's message.
#[tracing::instrument(skip(client, sql), fields(bytes = sql.len()))]
pub async fn run_sql_file(client: &Client, sql: &str, path: &std::path::Path) -> Result<()> {
    run_file(client, &RunContext::default(), sql, path, None, None).await
}

/// `run_sql_file` as a replay that builds a shadow's state needs it: the file's transactions
/// commit after each batch of statements. The state is the same, since the file ran as written
/// when it was verified; but a transaction holds a lock on every object it makes until it
/// commits, so a dev server's lock table would bound what one file may make, and a statement
/// that takes more than a few locks walks all that its transaction holds. The bench's 5%
/// change at 10,000 tables replays in 3 s instead of 6 (its initial migration in 34 s either
/// way).
#[tracing::instrument(skip(client, sql), fields(bytes = sql.len()))]
pub async fn replay_sql_file(client: &Client, sql: &str, path: &std::path::Path) -> Result<()> {
    let run = RunContext { commit_batches: true, ..RunContext::default() };
    run_file(client, &run, sql, path, None, None).await
}

/// `run_sql_file`, also returning the most locks one of the file's transactions held (counted
/// before it commits): a server's lock table bounds them, whatever the file's size.
#[tracing::instrument(skip(client, sql), fields(bytes = sql.len()))]
pub async fn run_sql_file_counting_locks(
    client: &Client,
    sql: &str,
    path: &std::path::Path,
) -> Result<u64> {
    let most = std::sync::atomic::AtomicU64::new(0);
    let run = RunContext { most_locks: Some(&most), ..RunContext::default() };
    run_file(client, &run, sql, path, None, None).await?;
    Ok(most.into_inner())
}

/// How `run_file` watches and retries: nothing, unless a run's `Session` gives a second
/// session to watch from.
#[derive(Default)]
pub struct RunContext<'a> {
    /// The session that watches, and the server pid of the one that runs the file.
    watch: Option<(&'a Client, i32)>,
    retries: u32,
    retry_delay: Duration,
    /// Where each committed part of a file is recorded.
    history: HistoryTable,
    /// Told when a part commits.
    on_event: Option<&'a (dyn Fn(Event<'_>) + Sync)>,
    /// Stop before a step marked `DELETES_DATA` when the data it deletes is there (`down`):
    /// data written after the transaction given, or any when none is.
    guard_data: Option<Option<i64>>,
    /// Raised to the count of locks a transaction holds before it commits.
    most_locks: Option<&'a std::sync::atomic::AtomicU64>,
    /// Commit inside the file's transactions after each batch of statements (a replay).
    commit_batches: bool,
}

impl<'a> RunContext<'a> {
    async fn of(session: &Session<'a>) -> Result<RunContext<'a>> {
        let watch = match session.watcher {
            Some(observer) => {
                let pid: i32 = (session.client.query_one("SELECT pg_backend_pid()", &[]).await)
                    .map_err(Error::db("reading the session's process id"))?
                    .get(0);
                Some((observer, pid))
            }
            None => None,
        };
        Ok(RunContext {
            watch,
            retries: session.waits.lock_retries,
            retry_delay: session.waits.retry_delay,
            history: session.history.clone(),
            on_event: session.on_event,
            guard_data: None,
            most_locks: None,
            commit_batches: false,
        })
    }
}

/// Where a file that runs in several groups (transactions, and statements outside one) has
/// got to: the groups before `done` committed on an earlier run and are skipped; each group
/// that commits now records itself in the history row of `version`.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub version: i32,
    pub done: usize,
}

/// Each unit's group: one per transaction and one per statement outside a transaction, but
/// none for a setting (it is run again on every run: it belongs to the session, not the
/// database), and a `DROP ... IF EXISTS` outside a transaction goes with the statement after
/// it (a concurrent build's clean-up of what a killed build left must run before the build
/// is tried again).
fn groups(units: &[Unit<'_>]) -> Vec<Option<usize>> {
    let (mut out, mut next, mut in_transaction, mut joined) = (Vec::new(), 0, false, false);
    for unit in units {
        let group = match unit {
            Unit::Begin => {
                in_transaction = true;
                Some(next)
            }
            Unit::Commit(_) => {
                in_transaction = false;
                next += 1;
                Some(next - 1)
            }
            Unit::Statement(..) if in_transaction => Some(next),
            Unit::Statement(_, s) if is_setting(s) => None,
            Unit::Statement(_, s) => {
                let cleanup = s.get(..5).is_some_and(|w| w.eq_ignore_ascii_case("drop "))
                    && s.to_ascii_uppercase().contains(" IF EXISTS ");
                let group = Some(next);
                let opens_pair = cleanup && !joined;
                if !opens_pair {
                    next += 1;
                }
                joined = opens_pair;
                group
            }
        };
        out.push(group);
    }
    out
}

/// Runs a file as `psql -v ON_ERROR_STOP=1` would: its own `BEGIN;` and `COMMIT;` delimit
/// its transactions, and what stands outside them commits statement by statement, so the
/// file says how it runs and both run it alike. `finish` runs in the file's last transaction
/// when nothing but settings follows it, else after the file.
///
/// A group (transaction, or statement outside one) that gives up waiting for a lock
/// (`lock_timeout`) is rolled back and tried again, up to `run.retries` times with the delay
/// doubling: what it waited behind may be gone by then. The error names the lock and the
/// sessions that held it, and says which groups committed.
pub async fn run_file(
    client: &Client,
    run: &RunContext<'_>,
    sql: &str,
    path: &std::path::Path,
    finish: Option<Finish<'_>>,
    progress: Option<Progress>,
) -> Result<()> {
    let units = units(sql);
    let group_of = groups(&units);
    let total = group_of.iter().flatten().max().map_or(0, |g| g + 1);
    let progress = progress.filter(|_| total > 1);
    let skip = progress.map_or(0, |p| p.done);
    let last_commit = units.iter().rposition(|u| matches!(u, Unit::Commit(_)));
    let finish_in_last = last_commit.is_some_and(|c| {
        units[c + 1..].iter().all(|u| matches!(u, Unit::Statement(_, s) if is_setting(s)))
    });
    let mut finished = false;
    let mut in_transaction = false;
    let (mut i, mut attempt, mut committed) = (0, 0u32, skip);
    let mut failed = None;
    // The transaction that failed as a batch and runs again one statement at a time.
    let mut unbatched = None;
    while i < units.len() {
        if group_of[i].is_some_and(|g| g < skip) {
            i += 1;
            continue;
        }
        // The last unit of a group: after it, the group has committed.
        let ends_group =
            group_of[i].is_some() && group_of.get(i + 1).copied().flatten() != group_of[i];
        let record = progress
            .filter(|_| ends_group)
            .map(|p| (p.version, group_of[i].unwrap_or(0) as i32 + 1));
        // Where nothing watches or guards each statement (a shadow's replay and verification),
        // a transaction's statements go many to a round trip.
        let mut batch_end = i;
        if in_transaction
            && run.watch.is_none()
            && run.guard_data.is_none()
            && unbatched != Some(group_of[i])
        {
            while batch_end + 1 < units.len()
                && batch_end + 1 - i < crate::shadow::BATCH
                && matches!(units[batch_end + 1], Unit::Statement(..))
                && group_of[batch_end + 1] == group_of[i]
            {
                batch_end += 1;
            }
        }
        let (result, blocked_by, gave_up_waiting) = match units[i] {
            // Asked to stop: what runs now is rolled back, what committed stays.
            _ if crate::interrupt::requested() => {
                let message = format!("{}: interrupted before this part ran", path.display());
                (Err(Error::Interrupted(message)), None, false)
            }
            Unit::Begin => {
                in_transaction = true;
                let r = client.batch_execute("BEGIN").await;
                (r.map_err(Error::db("starting a transaction")), None, false)
            }
            Unit::Commit(at) => {
                let mut result = Ok(());
                if Some(i) == last_commit
                    && finish_in_last
                    && let Some(f) = finish
                {
                    result = run_finish(client, f).await;
                    finished = result.is_ok();
                }
                // A file finished in this transaction is recorded as applied, not partial.
                if result.is_ok()
                    && !finished
                    && let Some(r) = record
                {
                    result = record_progress(client, &run.history, r).await;
                }
                if result.is_ok()
                    && let Some(most) = run.most_locks
                {
                    result = count_locks(client).await.map(|held| {
                        most.fetch_max(held, std::sync::atomic::Ordering::Relaxed);
                    });
                }
                if result.is_ok() {
                    result = client
                        .batch_execute("COMMIT")
                        .await
                        .map_err(|e| statement_error(&e, sql, at, path));
                    in_transaction = false;
                }
                (result, None, false)
            }
            Unit::Statement(..) if batch_end > i => {
                let batch = units[i..=batch_end].iter().map(|u| match u {
                    Unit::Statement(_, statement) => *statement,
                    _ => "",
                });
                if client.batch_execute(&crate::shadow::joined(batch)).await.is_err() {
                    // Nothing of the transaction stays (of the batch, when batches commit):
                    // run it again statement by statement, which finds the one that fails
                    // and says where.
                    let _ = client.batch_execute("ROLLBACK").await;
                    unbatched = Some(group_of[i]);
                    match run.commit_batches {
                        true => match client.batch_execute("BEGIN").await {
                            Ok(()) => continue,
                            Err(e) => (Err(Error::db("starting a transaction")(e)), None, false),
                        },
                        false => {
                            in_transaction = false;
                            while i > 0 && group_of[i - 1] == group_of[i] {
                                i -= 1;
                            }
                            continue;
                        }
                    }
                } else {
                    i = batch_end;
                    let committed = match run.commit_batches {
                        true => client.batch_execute("COMMIT; BEGIN").await,
                        false => Ok(()),
                    };
                    (committed.map_err(Error::db("committing a batch")), None, false)
                }
            }
            Unit::Statement(at, statement)
                if let Some(since) = run.guard_data
                    && let Err(e) =
                        guard::check(client, sql, at, statement, since, locate(path, sql, at))
                            .await =>
            {
                (Err(e), None, false)
            }
            Unit::Statement(at, statement) => {
                let (r, blocked_by) = session::watched(client, run.watch, statement).await;
                let lock_timeout = r.as_ref().err().and_then(|e| e.code())
                    == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE);
                let mut r = r.map_err(|e| statement_error(&e, sql, at, path));
                if r.is_ok()
                    && !in_transaction
                    && let Some(rec) = record
                {
                    r = record_progress(client, &run.history, rec).await;
                }
                (r, blocked_by, lock_timeout)
            }
        };
        match result {
            Ok(()) => {
                if ends_group {
                    attempt = 0;
                    committed = group_of[i].map_or(committed, |g| g + 1);
                    if let Some(tell) = run.on_event.filter(|_| total > 1) {
                        tell(Event::Part { done: committed, total });
                    }
                }
                i += 1;
            }
            Err(e) => {
                if in_transaction {
                    let _ = client.batch_execute("ROLLBACK").await;
                    in_transaction = false;
                }
                if gave_up_waiting && attempt < run.retries {
                    tokio::time::sleep(run.retry_delay * 2u32.pow(attempt)).await;
                    attempt += 1;
                    // Back to the group's first unit.
                    let group = group_of[i];
                    while i > 0 && group.is_some() && group_of[i - 1] == group {
                        i -= 1;
                    }
                    continue;
                }
                let mut notes = Vec::new();
                if gave_up_waiting {
                    notes.push(format!(
                        "it waited for {}\n  tried {} time(s){}",
                        blocked_by.unwrap_or_else(|| "a lock".into()),
                        attempt + 1,
                        if attempt > 0 { ", waiting longer after each" } else { "" }
                    ));
                }
                if progress.is_some() {
                    notes.push(match committed {
                        0 => format!("none of its {total} parts committed"),
                        n => format!(
                            "{n} of its {total} parts committed and are recorded; `schemadiff apply` resumes at part {}",
                            n + 1
                        ),
                    });
                }
                failed = Some(with_notes(e, &notes));
                break;
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    match finish.filter(|_| !finished) {
        Some(f) => run_finish(client, f).await,
        None => Ok(()),
    }
}

/// How many locks the session's transaction holds.
async fn count_locks(client: &Client) -> Result<u64> {
    let row = (client.query_one(include_str!("locks_held.sql"), &[]).await)
        .map_err(Error::db("counting the locks the transaction holds"))?;
    Ok(row.get::<_, i64>(0).max(0) as u64)
}

/// The error with lines of what else the user should know.
fn with_notes(e: Error, notes: &[String]) -> Error {
    if notes.is_empty() {
        return e;
    }
    let extra: String = notes.iter().map(|n| format!("\n  {n}")).collect();
    match e {
        Error::Statement { location, message, statement } => {
            Error::Statement { location, message: format!("{message}{extra}"), statement }
        }
        e => Error::Migrations(format!("{e}{extra}")),
    }
}

async fn record_progress(
    client: &Client,
    table: &HistoryTable,
    (version, done): (i32, i32),
) -> Result<()> {
    client
        .execute(
            &table.sql(
                "UPDATE {history} SET status = 'partial', groups_done = $2 WHERE version = $1",
            ),
            &[&version, &done],
        )
        .await
        .map(|_| ())
        .map_err(Error::db("recording the migration's progress"))
}

async fn run_finish(client: &Client, (stmt, params): Finish<'_>) -> Result<()> {
    client.execute(stmt, params).await.map(|_| ()).map_err(Error::db("recording the migration"))
}

/// One statement of a migration file, or one of its transaction boundaries.
#[derive(Debug, PartialEq)]
enum Unit<'a> {
    Begin,
    /// With the byte offset of the `COMMIT`, for errors raised when it runs (a deferred
    /// constraint).
    Commit(usize),
    Statement(usize, &'a str),
}

/// The statements of `sql` with their byte offsets; `BEGIN`/`START TRANSACTION` and
/// `COMMIT`/`END` are told apart by PostgreSQL's parser, so no comment or string can pass
/// for one. SQL the parser cannot read runs as one statement and PostgreSQL reports it.
fn units(sql: &str) -> Vec<Unit<'_>> {
    // The parser's statement boundaries without its tree: the tree of a 10,000-table
    // migration takes over a gigabyte. A transaction statement is told by its first words.
    let pieces = match split_with_parser(sql).or_else(|_| pg_query::split_with_scanner(sql)) {
        Ok(pieces) => pieces,
        Err(_) => return vec![Unit::Statement(0, sql)],
    };
    let base = sql.as_ptr() as usize;
    let mut units: Vec<Unit<'_>> = (pieces.into_iter())
        .filter(|p| !p.trim().is_empty())
        .map(|piece| {
            let at = piece.as_ptr() as usize - base + (piece.len() - piece.trim_start().len());
            let text = piece.trim();
            let mut words = words_past_comments(text);
            match (words.next().as_deref(), words.next().as_deref()) {
                (Some("BEGIN"), _) | (Some("START"), Some("TRANSACTION")) => Unit::Begin,
                (Some("COMMIT" | "END"), _) => Unit::Commit(at),
                _ => Unit::Statement(at, text),
            }
        })
        .collect();
    // A file that says nothing of transactions (a hand-written one, or one generated before
    // files declared theirs) runs in one, with its history row, as other migration tools do:
    // otherwise a file killed or failing half-way leaves some of its statements committed and
    // none recorded. A file with a statement that cannot run in a transaction runs as written.
    let last = units.iter().rev().find_map(|u| match u {
        Unit::Statement(at, s) if !is_setting(s) => Some(*at),
        _ => None,
    });
    let declares = units.iter().any(|u| !matches!(u, Unit::Statement(..)));
    let all_transactional =
        units.iter().all(|u| matches!(u, Unit::Statement(_, s) if !runs_outside_transaction(s)));
    if let Some(last) = last.filter(|_| !declares && all_transactional) {
        let first = units.iter().position(|u| matches!(u, Unit::Statement(_, s) if !is_setting(s)));
        units.insert(first.unwrap_or(0), Unit::Begin);
        units.push(Unit::Commit(last));
    }
    units
}

/// Whether PostgreSQL refuses to run a statement inside a transaction block, or (a new enum
/// value, a procedure that commits) the statement only works as intended outside one.
fn runs_outside_transaction(statement: &str) -> bool {
    let words: Vec<String> = words_past_comments(statement).take(12).collect();
    let first = words.first().map(String::as_str);
    let has = |w: &str| words.iter().any(|x| x == w);
    matches!(first, Some("VACUUM" | "CLUSTER" | "CALL" | "CHECKPOINT"))
        || has("CONCURRENTLY")
        || (matches!(first, Some("CREATE" | "DROP" | "ALTER"))
            && words.get(1).is_some_and(|w| {
                matches!(w.as_str(), "DATABASE" | "TABLESPACE" | "SYSTEM" | "SUBSCRIPTION")
            }))
        || (first == Some("ALTER") && words.get(1).is_some_and(|w| w == "TYPE") && has("VALUE"))
}

/// A statement's words, upper-cased, past the comments above it.
fn words_past_comments(sql: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
}

/// Whether a statement only changes a setting of the session (`SET statement_timeout`).
fn is_setting(statement: &str) -> bool {
    statement.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("set "))
}

/// A database error located in the SQL text it came from.
/// `part_offset` is where the SQL that failed starts in the file's text `sql`.
pub fn statement_error(
    e: &tokio_postgres::Error,
    sql: &str,
    part_offset: usize,
    path: &std::path::Path,
) -> Error {
    let position = e.as_db_error().and_then(|d| match d.position() {
        Some(tokio_postgres::error::ErrorPosition::Original(p)) => Some(*p as usize),
        _ => None,
    });
    let offset =
        part_offset + position.map_or(0, |p| char_position_to_offset(&sql[part_offset..], p));
    let location = locate(path, sql, offset);
    let line = sql.lines().nth(location.line - 1).unwrap_or("").trim().to_string();
    let line = if line.is_empty() {
        sql[part_offset..].lines().next().unwrap_or("").to_string()
    } else {
        line
    };
    Error::Statement { location, message: describe_db_error(e), statement: line }
}

/// The history row of a migration that just ran, written in its last transaction.
const RECORD_APPLIED: &str = "INSERT INTO {history} \
        (version, name, checksum, status, execution_ms, error_message, applied_at, applied_by, applied_xid) \
    VALUES ($1, $2, $3, 'applied', 0, NULL, now(), current_user, txid_current()) \
    ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, \
        status = 'applied', error_message = NULL, applied_at = now(), \
        applied_by = current_user, rolled_back_at = NULL, groups_done = 0, \
        applied_xid = txid_current()";

const RECORD_ROLLED_BACK: &str = "UPDATE {history} \
    SET status = 'rolled_back', rolled_back_at = now(), groups_done = 0 WHERE version = $1";

/// Where `m` starts: after the parts an earlier, interrupted or failed run committed. A file
/// that changed since is refused: its parts may no longer be the ones that committed.
async fn start_progress(
    client: &Client,
    table: &HistoryTable,
    m: &Migration,
    row: Option<&HistoryRow>,
) -> Result<Option<Progress>> {
    let version = m.version as i32;
    let done = match row {
        Some(h) if (h.status == "partial" || h.status == "failed") && h.groups_done > 0 => {
            if h.checksum != m.checksum() {
                return Err(Error::Migrations(format!(
                    "{} was partly applied ({} parts committed) and has changed since; restore the version that ran",
                    m.id(),
                    h.groups_done
                )));
            }
            h.groups_done as usize
        }
        _ => 0,
    };
    let parts = groups(&units(&m.up_sql)).into_iter().flatten().max().map_or(0, |g| g + 1);
    if parts < 2 {
        return Ok(None);
    }
    if done == 0 {
        // The row each committed part updates.
        client
            .execute(
                &table.sql(
                    "INSERT INTO {history} \
                     (version, name, checksum, status, error_message, applied_at, applied_by, groups_done) \
                 VALUES ($1, $2, $3, 'partial', NULL, now(), current_user, 0) \
                 ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, \
                     status = 'partial', groups_done = 0",
                ),
                &[&version, &m.name, &m.checksum()],
            )
            .await
            .map_err(Error::db("recording the migration as started"))?;
    }
    Ok(Some(Progress { version, done }))
}

/// Records a failed run; the migration stays pending and runs again next time.
async fn record_failure(
    client: &Client,
    table: &HistoryTable,
    m: &Migration,
    ms: i64,
    error: &str,
) -> Result<()> {
    client
        .execute(
            &table.sql("INSERT INTO {history} \
                 (version, name, checksum, status, execution_ms, error_message, applied_at, applied_by) \
             VALUES ($1, $2, $3, 'failed', $4, $5, now(), current_user) \
             ON CONFLICT (version) DO UPDATE SET status = 'failed', execution_ms = EXCLUDED.execution_ms, \
                 error_message = EXCLUDED.error_message, applied_at = now(), applied_by = current_user"),
            &[&(m.version as i32), &m.name, &m.checksum(), &ms, &error],
        )
        .await
        .map_err(Error::db(format!("recording the failure in {table}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_are_the_files_own_statements_not_text() {
        let sql = "SET lock_timeout = '5s';\n\
                   -- COMMIT; in a comment is not one\n\
                   BEGIN;\n\
                   CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\n\
                   SELECT 'BEGIN;';\n\
                   COMMIT;\n\
                   CREATE INDEX CONCURRENTLY i ON t (a);\n";
        let units = units(sql);
        let kinds: Vec<&str> = units
            .iter()
            .map(|u| match u {
                Unit::Begin => "begin",
                Unit::Commit(_) => "commit",
                Unit::Statement(..) => "statement",
            })
            .collect();
        assert_eq!(kinds, ["statement", "begin", "statement", "statement", "commit", "statement"]);
        let Unit::Statement(at, text) = &units[5] else { unreachable!() };
        assert_eq!(groups(&units), [None, Some(0), Some(0), Some(0), Some(0), Some(1)]);
        assert_eq!(&sql[*at..*at + text.len()], "CREATE INDEX CONCURRENTLY i ON t (a)");
    }

    #[test]
    fn a_file_runs_in_parts_with_settings_apart_and_clean_ups_joined() {
        let sql = "SET lock_timeout = 0;\nBEGIN;\nCREATE TABLE a ();\nCOMMIT;\n\
                   DROP INDEX CONCURRENTLY IF EXISTS i;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n\
                   SET lock_timeout = '5s';\nINSERT INTO a DEFAULT VALUES;\n";
        let parts = groups(&units(sql));
        assert_eq!(parts, [None, Some(0), Some(0), Some(0), Some(1), Some(1), None, Some(2)]);
    }

    #[test]
    fn a_file_that_declares_no_transaction_runs_in_one_unless_a_statement_cannot() {
        let kinds = |sql| -> Vec<&str> {
            units(sql)
                .iter()
                .map(|u| match u {
                    Unit::Begin => "begin",
                    Unit::Commit(_) => "commit",
                    Unit::Statement(..) => "statement",
                })
                .collect()
        };
        let plain = "SET lock_timeout = '5s';\nCREATE TABLE a ();\nINSERT INTO a DEFAULT VALUES;\n";
        assert_eq!(kinds(plain), ["statement", "begin", "statement", "statement", "commit"]);
        assert_eq!(groups(&units(plain)), [None, Some(0), Some(0), Some(0), Some(0)]);
        let concurrent = "CREATE TABLE a (n int);\nCREATE INDEX CONCURRENTLY i ON a (n);\n";
        assert_eq!(kinds(concurrent), ["statement", "statement"]);
        let enum_value = "ALTER TYPE mood ADD VALUE 'meh';\nINSERT INTO t VALUES ('meh');\n";
        assert_eq!(kinds(enum_value), ["statement", "statement"]);
    }
}
