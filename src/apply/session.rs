//! The sessions a run works through: the migration lock that serialises runs, and what a
//! statement waiting for a lock is waiting for.
//!
//! With a second session (`Session::lock_session`, as the CLI opens), the lock is
//! `pg_advisory_xact_lock` taken in a transaction that stays open for the run. A
//! transaction-pooling PgBouncer pins a client to one server connection for as long as its
//! transaction is open, so the lock is held exactly as long as the run, and is released when
//! the client goes away, in every pooling mode. A session-level advisory lock would not be:
//! behind transaction pooling it is taken on one server connection and "released" on another,
//! and stays held for good. With one client (the library's `apply`), the lock is a session
//! lock on it, right on a direct connection.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::error::{Error, Result};

/// Key of the advisory lock that serialises schemadiff runs on one database.
const LOCK_KEY: i64 = 0x5C8E_D1FF;

/// How long a run waits, and how often it tries again.
#[derive(Debug, Clone)]
pub struct Waits {
    /// For the migration lock another run holds.
    pub lock_wait: Duration,
    /// Times a transaction (or statement) that gave up waiting for a table's lock
    /// (`lock_timeout`) is tried again, after `retry_delay`, doubling each time.
    pub lock_retries: u32,
    pub retry_delay: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            lock_wait: Duration::from_secs(300),
            lock_retries: 3,
            retry_delay: Duration::from_secs(1),
        }
    }
}

/// Where a run's statements go.
pub struct Session<'a> {
    pub client: &'a Client,
    /// A second session on the same database: it holds the migration lock, and runs nothing
    /// else in its transaction (a snapshot held there would hold back vacuum, and a concurrent
    /// index build would wait for it for ever).
    pub lock_session: Option<&'a Client>,
    /// A third: it watches what `client` waits for while a statement runs.
    pub watcher: Option<&'a Client>,
    pub waits: Waits,
    /// Told once when the run starts waiting for another run's lock.
    pub on_wait: Option<&'a (dyn Fn(&str) + Sync)>,
    /// Where the run records what it did.
    pub history: super::HistoryTable,
    /// Told as the run goes: for a progress bar.
    pub on_event: Option<&'a (dyn Fn(Event<'_>) + Sync)>,
}

/// How far a run has got.
#[derive(Debug, Clone, Copy)]
pub enum Event<'e> {
    /// A migration starts (`apply`) or starts being reverted (`down`).
    Started(&'e str),
    /// Of a file that runs in parts, `done` of `total` have committed.
    Part { done: usize, total: usize },
    /// The migration is done.
    Finished(&'e str),
}

impl<'a> Session<'a> {
    /// One client: a session lock on it, no watching.
    pub fn new(client: &'a Client) -> Session<'a> {
        Session {
            client,
            lock_session: None,
            watcher: None,
            waits: Waits::default(),
            on_wait: None,
            history: super::HistoryTable::default(),
            on_event: None,
        }
    }
}

/// Takes the migration lock, waiting up to `lock_wait` for a run that holds it.
pub(crate) async fn lock(session: &Session<'_>) -> Result<()> {
    if let Some(lock) = session.lock_session {
        lock.batch_execute(
            "BEGIN; SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL statement_timeout = 0",
        )
        .await
        .map_err(Error::db("opening the migration lock's transaction"))?;
    }
    let started = Instant::now();
    let mut told = false;
    loop {
        let got = match session.lock_session {
            Some(lock) => try_xact_lock(lock).await,
            None => session
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .await
                .map(|row| row.get(0)),
        }
        .map_err(Error::db("taking the schemadiff migration lock"))?;
        if got {
            return Ok(());
        }
        let holder = lock_holder(session.client).await;
        if started.elapsed() >= session.waits.lock_wait {
            unlock(session).await;
            return Err(Error::Migrations(format!(
                "another schemadiff run holds this database's migration lock: {holder}; waited {}s for it. \
                 Let that run finish (or end that session), or wait longer with `lock_wait` in schemadiff.toml",
                session.waits.lock_wait.as_secs()
            )));
        }
        if !told && let Some(tell) = session.on_wait {
            tell(&format!("waiting for the migration lock, held by {holder}"));
            told = true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `pg_try_advisory_xact_lock` over the simple protocol: an extended-protocol query would
/// leave its portal, and the portal's snapshot, open in the transaction until the next one,
/// and a concurrent index build waits for every such snapshot to go.
async fn try_xact_lock(lock: &Client) -> std::result::Result<bool, tokio_postgres::Error> {
    let messages =
        lock.simple_query(&format!("SELECT pg_try_advisory_xact_lock({LOCK_KEY})")).await?;
    Ok(messages.iter().any(
        |m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t")),
    ))
}

pub(crate) async fn unlock(session: &Session<'_>) {
    match session.lock_session {
        Some(lock) => {
            let _ = lock.batch_execute("COMMIT").await;
        }
        None => {
            let _ = session.client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
        }
    }
}

async fn lock_holder(observer: &Client) -> String {
    let objid = (LOCK_KEY & 0xFFFF_FFFF) as u32;
    match observer.query_opt(include_str!("lock_holder.sql"), &[&objid]).await {
        Ok(Some(row)) => row.get(0),
        Ok(None) => "a session that just let it go".into(),
        Err(e) => {
            format!("a session schemadiff cannot see ({})", crate::error::describe_db_error(&e))
        }
    }
}

/// What session `pid` waits for and who holds it, when it waits for a lock.
pub(crate) async fn blockers(observer: &Client, pid: i32) -> Option<String> {
    let _ = observer.batch_execute("SELECT pg_stat_clear_snapshot()").await;
    let row = observer.query_one(include_str!("blockers.sql"), &[&pid]).await.ok()?;
    let holders: Option<String> = row.get(1);
    let waits: Option<String> = row.get(0);
    holders.map(|h| format!("{} lock, held by {h}", waits.unwrap_or_else(|| "a".into())))
}

/// Runs `sql` on `client`; while it runs, `observer` notes every ¼ s what it waits for.
pub(crate) async fn watched(
    client: &Client,
    watch: Option<(&Client, i32)>,
    sql: &str,
) -> (std::result::Result<(), tokio_postgres::Error>, Option<String>) {
    let Some((observer, pid)) = watch else { return (client.batch_execute(sql).await, None) };
    let run = client.batch_execute(sql);
    tokio::pin!(run);
    let mut last = None;
    loop {
        tokio::select! {
            result = &mut run => return (result, last),
            _ = tokio::time::sleep(Duration::from_millis(250)) => {
                if let Some(b) = blockers(observer, pid).await {
                    last = Some(b);
                }
            }
        }
    }
}
