//! Ctrl-C, done as a user can trust: the server is asked to cancel what every open
//! connection runs (so no statement keeps running, and holding its locks, after the client
//! is gone), and a run stops at its next statement, so its own error says what committed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio_postgres::CancelToken;
use tokio_postgres_rustls::MakeRustlsConnect;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// How to cancel what a connection runs: its key, and the TLS it was opened with.
type Canceller = (CancelToken, Option<MakeRustlsConnect>);

/// The connections open now, by an id their connection task removes when it ends.
static OPEN: Mutex<BTreeMap<u64, Canceller>> = Mutex::new(BTreeMap::new());

/// Whether the user asked the run to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Asks every run to stop at its next statement and the server to cancel each one running.
/// Returns how many connections were asked.
pub async fn request() -> usize {
    REQUESTED.store(true, Ordering::SeqCst);
    let open: Vec<Canceller> =
        OPEN.lock().map(|o| o.values().cloned().collect()).unwrap_or_default();
    for (token, tls) in &open {
        // A connection that has just ended answers nothing; that is not an error here.
        let _ = match tls {
            Some(tls) => token.cancel_query(tls.clone()).await,
            None => token.cancel_query(tokio_postgres::NoTls).await,
        };
    }
    open.len()
}

/// Notes a connection that has opened; `closed` with the id when it ends.
pub(crate) fn opened(token: CancelToken, tls: Option<MakeRustlsConnect>) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut open) = OPEN.lock() {
        open.insert(id, (token, tls));
    }
    id
}

pub(crate) fn closed(id: u64) {
    if let Ok(mut open) = OPEN.lock() {
        open.remove(&id);
    }
}
