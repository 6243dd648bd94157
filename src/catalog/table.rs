//! Tables with their columns and constraints, and indexes.

use std::collections::BTreeMap;

use super::{Identity, ObjectId, QualifiedName};

/// A column as PostgreSQL deparses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `format_type` output, qualified when the type is outside `pg_catalog`.
    pub type_sql: String,
    /// The column's collation when it differs from its type's, quoted and qualified.
    pub collation: Option<String>,
    pub not_null: bool,
    /// `pg_get_expr` of the default; `None` for generated columns.
    pub default: Option<String>,
    pub identity: Option<Identity>,
    /// The expression of a `GENERATED ALWAYS AS (...) STORED` column.
    pub generated: Option<String>,
    pub comment: Option<String>,
    /// Objects the type, default and generation expression need (types, sequences, extensions).
    pub depends_on: Vec<ObjectId>,
}

/// The kind of a table constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

/// A table constraint; `definition` is `pg_get_constraintdef` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    pub definition: String,
    /// Columns of this table it covers.
    pub columns: Vec<String>,
    /// Other objects it needs: the referenced key of a foreign key.
    pub depends_on: Vec<ObjectId>,
    pub comment: Option<String>,
}

/// A table (relkind `r`). Column order is not compared: PostgreSQL appends new columns and
/// cannot reorder them without rebuilding the table.
#[derive(Debug, Clone, Eq)]
pub struct Table {
    pub name: QualifiedName,
    pub columns: Vec<Column>,
    pub constraints: BTreeMap<String, Constraint>,
    pub comment: Option<String>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub row_security: bool,
    /// `FORCE ROW LEVEL SECURITY`: policies apply to the owner too.
    pub force_row_security: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns in name order, the order comparisons use.
    pub fn columns_by_name(&self) -> Vec<&Column> {
        let mut columns: Vec<&Column> = self.columns.iter().collect();
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        columns
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.comment == other.comment
            && self.row_security == other.row_security
            && self.force_row_security == other.force_row_security
            && self.constraints == other.constraints
            && self.columns_by_name() == other.columns_by_name()
    }
}

/// An index that does not back a constraint; `definition` is `pg_get_indexdef` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: QualifiedName,
    pub table: QualifiedName,
    pub definition: String,
    /// Columns of the table it reads (plain key and INCLUDE columns, and those in expressions).
    pub columns: Vec<String>,
    pub comment: Option<String>,
}
