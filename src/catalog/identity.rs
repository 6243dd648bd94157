//! Typed identities: objects are keyed by schema-qualified name, never by OID.

use std::fmt;

/// A schema-qualified name such as `marketing.contacts`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self { schema: schema.into(), name: name.into() }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Any object a step can create, drop or depend on. The plan orders steps by these.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectId {
    Schema(String),
    Extension(String),
    Type(QualifiedName),
    Sequence(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, String),
    Constraint(QualifiedName, String),
    Index(QualifiedName),
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectId::Schema(s) => write!(f, "schema {s}"),
            ObjectId::Extension(e) => write!(f, "extension {e}"),
            ObjectId::Type(t) => write!(f, "type {t}"),
            ObjectId::Sequence(s) => write!(f, "sequence {s}"),
            ObjectId::Table(t) => write!(f, "table {t}"),
            ObjectId::Column(t, c) => write!(f, "column {t}.{c}"),
            ObjectId::Constraint(t, c) => write!(f, "constraint {c} on {t}"),
            ObjectId::Index(i) => write!(f, "index {i}"),
        }
    }
}
