//! Functions, procedures and aggregates: one `pg_proc` namespace, keyed by name and identity
//! arguments so that overloads are separate objects.

use super::QualifiedName;

/// What kind of routine a `pg_proc` row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoutineKind {
    Function,
    Procedure,
    Aggregate,
}

/// The parts of `CREATE AGGREGATE` that `pg_aggregate` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// `sfunc = ...` and the other options, as `name = value` pairs in PostgreSQL's order.
    pub options: Vec<(String, String)>,
}

/// A routine. For functions and procedures `definition` is `pg_get_functiondef` output (a
/// complete `CREATE OR REPLACE` statement carrying every attribute PostgreSQL keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: QualifiedName,
    /// The input argument types: with the name, what identifies a routine (overloads
    /// differ in them; renaming a parameter does not make another routine).
    pub argument_types: String,
    /// `pg_get_function_identity_arguments`: those types with their names and modes.
    pub identity_arguments: String,
    pub kind: RoutineKind,
    pub definition: String,
    /// `pg_get_function_arguments`: names, modes and defaults.
    pub arguments: String,
    /// `pg_get_function_result`; `None` for procedures.
    pub result: Option<String>,
    pub language: String,
    /// The body as written (`prosrc`), read for the objects it names.
    pub body: String,
    pub aggregate: Option<Aggregate>,
    pub comment: Option<String>,
}

impl Function {
    /// Whether `CREATE OR REPLACE` can turn `self` into `to`: PostgreSQL refuses a new result
    /// type, renamed or removed parameters, and a change between function and procedure.
    pub fn replaceable_by(&self, to: &Function) -> bool {
        self.kind == to.kind
            && self.kind != RoutineKind::Aggregate
            && self.result == to.result
            && self.arguments == to.arguments
    }
}
