//! Row-level security policies.

use super::QualifiedName;

/// A policy; expressions are `pg_get_expr` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub table: QualifiedName,
    pub name: String,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Role names, `public` for PUBLIC; sorted.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub check: Option<String>,
    pub comment: Option<String>,
}

impl Policy {
    /// Whether `ALTER POLICY` can turn `self` into `to`: it changes roles and expressions,
    /// but not the command or permissiveness, and cannot remove an expression.
    pub fn alterable_to(&self, to: &Policy) -> bool {
        self.permissive == to.permissive
            && self.command == to.command
            && (self.using.is_none() || to.using.is_some())
            && (self.check.is_none() || to.check.is_some())
    }
}
