//! User operators and casts.

use super::QualifiedName;

/// `CREATE OPERATOR`; functions and types as PostgreSQL prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub name: QualifiedName,
    /// `left, right` with `NONE` for a prefix operator's missing side: the identity.
    pub arguments: String,
    pub left: Option<String>,
    pub right: Option<String>,
    pub function: String,
    /// `OPERATOR(schema.name)` of the commutator and negator.
    pub commutator: Option<String>,
    pub negator: Option<String>,
    pub restrict: Option<String>,
    pub join: Option<String>,
    pub hashes: bool,
    pub merges: bool,
    pub comment: Option<String>,
}

/// `CREATE CAST (source AS target)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cast {
    pub source: String,
    pub target: String,
    /// `WITH FUNCTION f(args)`; `None` for `WITHOUT FUNCTION` or `WITH INOUT`.
    pub function: Option<String>,
    /// `i` for `WITH INOUT`, `b` for binary coercible, `f` for a function.
    pub method: String,
    /// `e` explicit, `a` assignment, `i` implicit.
    pub context: String,
    pub comment: Option<String>,
}
