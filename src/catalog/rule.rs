//! Rewrite rules (`CREATE RULE`), other than the `_RETURN` rule that makes a view.

use super::QualifiedName;

/// A rule; `definition` is `pg_get_ruledef` output (the whole `CREATE RULE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub table: QualifiedName,
    pub name: String,
    pub definition: String,
    pub comment: Option<String>,
}
