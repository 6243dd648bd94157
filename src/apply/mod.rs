//! Runs migrations against a database and records them: `apply`, `down`, `status`.
//!
//! One history table; an advisory lock around every run; each file in one transaction, so a
//! failing file leaves nothing half-applied and is recorded as failed, not applied.

use std::collections::BTreeMap;
use std::time::Instant;

use tokio_postgres::Client;

use crate::error::{Error, Result, describe_db_error};
use crate::migrations::Migration;
use crate::source::{char_position_to_offset, locate};

/// Key of the advisory lock that serialises schemadiff runs on one database.
const LOCK_KEY: i64 = 0x5C8E_D1FF;

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
}

/// Where one migration stands on a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Pending,
    Applied,
    Failed(String),
    RolledBack,
    /// Applied, but the file changed since.
    Modified,
    /// Recorded as applied, but its file is gone.
    Missing,
}

/// Reads the history; empty when the table does not exist yet.
pub async fn history(client: &Client) -> Result<BTreeMap<u32, HistoryRow>> {
    let exists: bool = client
        .query_one("SELECT to_regclass('public.schemadiff_migrations') IS NOT NULL", &[])
        .await
        .map_err(Error::db("looking for the history table"))?
        .get(0);
    if !exists {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query(
            "SELECT version, name, checksum, status, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'), \
             execution_ms, error_message FROM public.schemadiff_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(Error::db("reading public.schemadiff_migrations"))?;
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

async fn lock(client: &Client) -> Result<()> {
    let got: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(Error::db("taking the schemadiff advisory lock"))?
        .get(0);
    if !got {
        return Err(Error::Migrations(
            "another schemadiff run holds this database's migration lock; wait for it to finish"
                .into(),
        ));
    }
    Ok(())
}

async fn unlock(client: &Client) {
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
}

async fn ensure_history(client: &Client) -> Result<()> {
    client
        .batch_execute(include_str!("history.sql"))
        .await
        .map_err(Error::db("creating public.schemadiff_migrations"))
}

/// What one `apply` or `down` did: the migrations run, with milliseconds each.
#[derive(Debug, Default)]
pub struct RunReport {
    pub done: Vec<(String, i64)>,
}

/// Applies every pending migration in order; stops at the first failure.
pub async fn apply(client: &Client, migrations: &[Migration]) -> Result<RunReport> {
    lock(client).await?;
    let result = apply_locked(client, migrations).await;
    unlock(client).await;
    result
}

async fn apply_locked(client: &Client, migrations: &[Migration]) -> Result<RunReport> {
    ensure_history(client).await?;
    let history = history(client).await?;
    check_consistent(migrations, &history)?;
    let mut report = RunReport::default();
    for m in migrations {
        if history.get(&m.version).is_some_and(|h| h.status == "applied") {
            continue;
        }
        let started = Instant::now();
        let (version, checksum) = (m.version as i32, m.checksum());
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&version, &m.name, &checksum];
        match run_file(client, &m.up_sql, &m.up_path, Some((RECORD_APPLIED, &params))).await {
            Ok(()) => {
                let ms = started.elapsed().as_millis() as i64;
                client
                    .execute(
                        "UPDATE public.schemadiff_migrations SET execution_ms = $2 WHERE version = $1",
                        &[&version, &ms],
                    )
                    .await
                    .map_err(Error::db("recording the migration's duration"))?;
                report.done.push((m.id(), ms));
            }
            Err(e) => {
                let ms = started.elapsed().as_millis() as i64;
                record_failure(client, m, ms, &e.to_string()).await?;
                return Err(e);
            }
        }
    }
    Ok(report)
}

/// Reverts the last `count` applied migrations, newest first, with their down files.
pub async fn down(client: &Client, migrations: &[Migration], count: usize) -> Result<RunReport> {
    lock(client).await?;
    let result = down_locked(client, migrations, count).await;
    unlock(client).await;
    result
}

async fn down_locked(client: &Client, migrations: &[Migration], count: usize) -> Result<RunReport> {
    ensure_history(client).await?;
    let history = history(client).await?;
    check_consistent(migrations, &history)?;
    let applied: Vec<&Migration> = migrations
        .iter()
        .rev()
        .filter(|m| history.get(&m.version).is_some_and(|h| h.status == "applied"))
        .take(count)
        .collect();
    let mut report = RunReport::default();
    for m in applied {
        let (Some(sql), Some(path)) = (&m.down_sql, &m.down_path) else {
            return Err(Error::Migrations(format!(
                "{} has no down file, so it cannot be reverted",
                m.id()
            )));
        };
        let started = Instant::now();
        let version = m.version as i32;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&version];
        run_file(client, sql, path, Some((RECORD_ROLLED_BACK, &params))).await?;
        let ms = started.elapsed().as_millis() as i64;
        report.done.push((m.id(), ms));
    }
    Ok(report)
}

/// A statement to run in the same transaction as a file's last part, such as its history row.
pub type Finish<'a> = (&'a str, &'a [&'a (dyn tokio_postgres::types::ToSql + Sync)]);

/// Runs a file in one transaction; an error names file:line with PostgreSQL's message.
///
/// A file the renderer split at `render::COMMIT_MARKER` runs as one transaction per part:
/// what comes before the marker (new enum values) must be committed before later parts use it,
/// and is written so that running it twice is harmless.
pub async fn run_in_transaction(client: &Client, sql: &str, path: &std::path::Path) -> Result<()> {
    run_file(client, sql, path, None).await
}

/// `run_in_transaction`, also running `finish` in the last transaction.
pub async fn run_file(
    client: &Client,
    sql: &str,
    path: &std::path::Path,
    finish: Option<Finish<'_>>,
) -> Result<()> {
    let parts = crate::render::transaction_parts(sql);
    let last = parts.len() - 1;
    for (i, (offset, part)) in parts.into_iter().enumerate() {
        client.batch_execute("BEGIN").await.map_err(Error::db("starting a transaction"))?;
        let mut result = Ok(());
        for (at, statement) in statements(part) {
            if let Err(e) = client.batch_execute(statement).await {
                result = Err(statement_error(&e, sql, offset + at, path));
                break;
            }
        }
        if i == last
            && result.is_ok()
            && let Some((stmt, params)) = finish
        {
            result = client
                .execute(stmt, params)
                .await
                .map(|_| ())
                .map_err(Error::db("recording the migration"));
        }
        if let Err(e) = result {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
        client.batch_execute("COMMIT").await.map_err(|e| statement_error(&e, sql, offset, path))?;
    }
    Ok(())
}

/// The statements of `sql` with their byte offsets, one at a time so an error names its
/// statement; SQL the parser cannot split runs as one batch and PostgreSQL reports it.
fn statements(sql: &str) -> Vec<(usize, &str)> {
    match pg_query::split_with_parser(sql) {
        Ok(pieces) => {
            let base = sql.as_ptr() as usize;
            pieces
                .into_iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| {
                    let leading = p.len() - p.trim_start().len();
                    (p.as_ptr() as usize - base + leading, p.trim_start())
                })
                .collect()
        }
        Err(_) => vec![(0, sql)],
    }
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
const RECORD_APPLIED: &str = "INSERT INTO public.schemadiff_migrations \
        (version, name, checksum, status, execution_ms, error_message, applied_at, applied_by) \
    VALUES ($1, $2, $3, 'applied', 0, NULL, now(), current_user) \
    ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, \
        status = 'applied', error_message = NULL, applied_at = now(), \
        applied_by = current_user, rolled_back_at = NULL";

const RECORD_ROLLED_BACK: &str = "UPDATE public.schemadiff_migrations \
    SET status = 'rolled_back', rolled_back_at = now() WHERE version = $1";

/// Records a failed run; the migration stays pending and runs again next time.
async fn record_failure(client: &Client, m: &Migration, ms: i64, error: &str) -> Result<()> {
    client
        .execute(
            "INSERT INTO public.schemadiff_migrations \
                 (version, name, checksum, status, execution_ms, error_message, applied_at, applied_by) \
             VALUES ($1, $2, $3, 'failed', $4, $5, now(), current_user) \
             ON CONFLICT (version) DO UPDATE SET status = 'failed', execution_ms = EXCLUDED.execution_ms, \
                 error_message = EXCLUDED.error_message, applied_at = now(), applied_by = current_user",
            &[&(m.version as i32), &m.name, &m.checksum(), &ms, &error],
        )
        .await
        .map_err(Error::db("recording the failure in public.schemadiff_migrations"))?;
    Ok(())
}
