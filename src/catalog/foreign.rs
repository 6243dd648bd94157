//! Foreign servers and foreign tables (`CREATE SERVER`, `CREATE FOREIGN TABLE`). The
//! wrappers themselves come from extensions (`file_fdw`, `postgres_fdw`).

use std::collections::BTreeMap;

use super::QualifiedName;

/// `CREATE SERVER`; servers belong to no schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub wrapper: String,
    pub server_type: Option<String>,
    pub version: Option<String>,
    /// `key=value`, as `pg_foreign_server.srvoptions` keeps them.
    pub options: Vec<String>,
    pub comment: Option<String>,
}

/// One column of a foreign table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignColumn {
    pub name: String,
    pub type_sql: String,
    pub collation: Option<String>,
    pub not_null: bool,
    pub default: Option<String>,
    pub options: Vec<String>,
}

/// A foreign table: it holds no rows of its own, so any change recreates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignTable {
    pub name: QualifiedName,
    pub server: String,
    pub columns: Vec<ForeignColumn>,
    pub options: Vec<String>,
    pub comment: Option<String>,
    pub column_comments: BTreeMap<String, String>,
}

/// `CREATE EVENT TRIGGER`; event triggers belong to no schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTrigger {
    pub name: String,
    pub event: String,
    /// `WHEN TAG IN (...)`; empty for every command.
    pub tags: Vec<String>,
    /// The function, qualified, as `regproc` prints it.
    pub function: String,
    /// `pg_event_trigger.evtenabled`: `O`, `D`, `R` or `A`.
    pub enabled: String,
    pub comment: Option<String>,
}
