//! Triggers on tables and views.

use super::QualifiedName;

/// `pg_trigger.tgenabled`: when the trigger fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TriggerState {
    /// `O`: fires in origin and local sessions (the default).
    Enabled,
    /// `D`
    Disabled,
    /// `R`: fires only in replica sessions.
    Replica,
    /// `A`: fires always.
    Always,
}

/// A user trigger; `definition` is `pg_get_triggerdef` output (the whole `CREATE TRIGGER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub table: QualifiedName,
    pub name: String,
    pub definition: String,
    pub state: TriggerState,
    pub comment: Option<String>,
}
