//! The strongest table lock each step takes, as PostgreSQL's documentation of `ALTER TABLE`,
//! `CREATE INDEX` and the rest gives it: what a reviewer weighs a hazard by.

use crate::catalog::{ConstraintKind, Object, QualifiedName};
use crate::diff::{Busy, Change};

/// A lock a step takes on a table (or the relation it changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// `ACCESS EXCLUSIVE`, `SHARE`, ...: what waits is in the README.
    pub mode: &'static str,
    pub on: QualifiedName,
}

impl std::fmt::Display for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} lock on {}", self.mode, self.on)
    }
}

const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";
const SHARE_UPDATE_EXCLUSIVE: &str = "SHARE UPDATE EXCLUSIVE";

fn lock(mode: &'static str, on: &QualifiedName) -> Option<Lock> {
    Some(Lock { mode, on: on.clone() })
}

/// The strongest lock `change` takes on an existing relation; `None` when it takes none that
/// queries wait on (a new object, a grant, a function).
pub fn lock_of(change: &Change) -> Option<Lock> {
    match change {
        Change::DropTable { table, .. } => lock(ACCESS_EXCLUSIVE, &table.name),
        Change::AddColumn { table, table_is_new: false, .. }
        | Change::DropColumn { table, .. }
        | Change::AlterColumn { table, .. }
        | Change::DropConstraint { table, .. }
        | Change::SetTableProperties { table, .. }
        | Change::SetRowSecurity { table, .. }
        | Change::ProveNotNull { table, .. }
        | Change::Rename { from: crate::catalog::ObjectId::Column(table, _), .. } => {
            lock(ACCESS_EXCLUSIVE, table)
        }
        // A foreign key blocks writes to both tables while it is added, not reads; anything
        // else (a key taking over an index built concurrently, a check NOT VALID) is a
        // catalog change under ACCESS EXCLUSIVE.
        Change::AddConstraint { table, constraint, .. } => match constraint.kind {
            ConstraintKind::ForeignKey => lock("SHARE ROW EXCLUSIVE", table),
            _ => lock(ACCESS_EXCLUSIVE, table),
        },
        Change::ValidateConstraint { table, .. } => lock(SHARE_UPDATE_EXCLUSIVE, table),
        // VALIDATE first; SET NOT NULL then takes ACCESS EXCLUSIVE only for a catalog change.
        Change::SetNotNullProven { table, .. } => lock(ACCESS_EXCLUSIVE, table),
        Change::CreateIndex { index, busy: Busy::Online }
        | Change::ReplaceIndex { to: index, .. } => lock(SHARE_UPDATE_EXCLUSIVE, &index.table),
        Change::CreateIndex { index, busy: Busy::Blocking } => lock("SHARE", &index.table),
        Change::DropIndex { index, busy: Busy::Online } => {
            lock(SHARE_UPDATE_EXCLUSIVE, &index.table)
        }
        Change::DropIndex { index, .. } => lock(ACCESS_EXCLUSIVE, &index.table),
        Change::Backfill { table, .. } => lock("ROW EXCLUSIVE", table),
        Change::RecreateEnum { columns, .. } => {
            columns.first().and_then(|c| lock(ACCESS_EXCLUSIVE, &c.table))
        }
        Change::CreateObject(o) | Change::DropObject(o) | Change::ReplaceObject { to: o, .. } => {
            match &**o {
                Object::Policy(p) => lock(ACCESS_EXCLUSIVE, &p.table),
                Object::Trigger(t) => lock("SHARE ROW EXCLUSIVE", &t.table),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A server's shared lock table: room for `per_process` (`max_locks_per_transaction`) locks
/// for each of `processes` (server processes and prepared transactions), which any one
/// transaction may fill, and past that as far as spare shared memory goes (on PostgreSQL 15
/// with its defaults, 2.5 times as far). A transaction that needs more stops with `out of
/// shared memory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTable {
    pub per_process: u64,
    pub processes: u64,
}

impl LockTable {
    /// PostgreSQL's defaults (64 locks; 100 connections, 3 autovacuum workers and their
    /// launcher, 8 background workers, 10 WAL senders): what a plan assumes with no target.
    pub const DEFAULT: LockTable = LockTable { per_process: 64, processes: 122 };

    /// The locks the server has room for whatever its spare memory.
    pub fn capacity(&self) -> u64 {
        self.per_process * self.processes
    }
}

/// A note when a transaction of `file` holds more locks than `table` promises room for (`on`
/// names the server), with the setting that would.
pub fn lock_table_note(file: &str, most_locks: u64, table: LockTable, on: &str) -> Option<String> {
    if most_locks <= table.capacity() {
        return None;
    }
    Some(format!(
        "{file}: one of its transactions holds {most_locks} locks (one per object it makes, \
         changes or drops), and the lock table of {on} promises room for {} \
         (max_locks_per_transaction {} for each of {} server processes): past that, how far \
         it gets depends on spare shared memory, and where that ends it stops with `out of \
         shared memory` and rolls back. Set max_locks_per_transaction to {} or more there (it \
         takes a restart) before it runs",
        table.capacity(),
        table.per_process,
        table.processes,
        most_locks.div_ceil(table.processes.max(1)),
    ))
}
