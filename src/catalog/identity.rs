//! Typed identities: objects are keyed by schema-qualified name, never by OID.

use std::fmt;

/// A schema-qualified name such as `marketing.contacts`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: Name,
    pub name: Name,
}

/// An identifier. Most are short (`public`, `orders`, `created_at`) and kept inline, without an
/// allocation of their own: a 10,000-table catalog names hundreds of thousands of objects, and
/// with a string allocated per name a live plan there made 14.8 million allocations (8.0 with
/// names inline) and peaked 15 MB higher.
pub type Name = compact_str::CompactString;

impl QualifiedName {
    pub fn new(schema: impl Into<Name>, name: impl Into<Name>) -> Self {
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
    Schema(Name),
    Extension(Name),
    Type(QualifiedName),
    Sequence(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, Name),
    Constraint(QualifiedName, Name),
    Index(QualifiedName),
    /// A view or materialized view.
    View(QualifiedName),
    /// A function, procedure or aggregate: name and identity arguments (overloads differ).
    Function(QualifiedName, Name),
    /// A trigger on a table or view.
    Trigger(QualifiedName, Name),
    /// A row-level security policy on a table.
    Policy(QualifiedName, Name),
    /// A column's default expression: a part of the column that can be rebuilt on its own.
    Default(QualifiedName, Name),
    Collation(QualifiedName),
    /// A rewrite rule on a table or view.
    Rule(QualifiedName, Name),
    /// An operator: name and `left, right` argument types.
    Operator(QualifiedName, Name),
    /// A cast from one type to another; casts belong to no schema.
    Cast(Name, Name),
    ForeignTable(QualifiedName),
    /// A foreign server; servers belong to no schema.
    Server(Name),
    EventTrigger(Name),
    /// The privileges new objects of a kind (`TABLES`, `FUNCTIONS`, ...) get when `role`
    /// (`None`: the role that runs the migration) creates them, in `schema` or anywhere.
    DefaultPrivileges {
        role: Option<Name>,
        schema: Option<Name>,
        on: Name,
    },
}

impl ObjectId {
    /// The schema the object lives in, when it lives in one.
    pub fn schema(&self) -> Option<&str> {
        match self {
            ObjectId::Schema(_)
            | ObjectId::Extension(_)
            | ObjectId::Cast(..)
            | ObjectId::Server(_)
            | ObjectId::EventTrigger(_) => None,
            ObjectId::DefaultPrivileges { schema, .. } => schema.as_deref(),
            ObjectId::Type(n)
            | ObjectId::Sequence(n)
            | ObjectId::Table(n)
            | ObjectId::Column(n, _)
            | ObjectId::Constraint(n, _)
            | ObjectId::Index(n)
            | ObjectId::View(n)
            | ObjectId::Function(n, _)
            | ObjectId::Trigger(n, _)
            | ObjectId::Policy(n, _)
            | ObjectId::Default(n, _)
            | ObjectId::Collation(n)
            | ObjectId::Rule(n, _)
            | ObjectId::Operator(n, _)
            | ObjectId::ForeignTable(n) => Some(&n.schema),
        }
    }
}

impl ObjectId {
    /// The same object under a new name (a column or constraint keeps its table), for the
    /// kinds `ALTER ... RENAME` renames; others are returned as they are.
    pub fn renamed(&self, to: &str) -> ObjectId {
        let with = |n: &QualifiedName| QualifiedName::new(n.schema.clone(), to);
        match self {
            ObjectId::Table(n) => ObjectId::Table(with(n)),
            ObjectId::Index(n) => ObjectId::Index(with(n)),
            ObjectId::Sequence(n) => ObjectId::Sequence(with(n)),
            ObjectId::View(n) => ObjectId::View(with(n)),
            ObjectId::Type(n) => ObjectId::Type(with(n)),
            ObjectId::Function(n, args) => ObjectId::Function(with(n), args.clone()),
            ObjectId::Column(t, _) => ObjectId::Column(t.clone(), Name::from(to)),
            ObjectId::Constraint(t, _) => ObjectId::Constraint(t.clone(), Name::from(to)),
            other => other.clone(),
        }
    }

    /// The object's own name, without its schema or table.
    pub fn name(&self) -> &str {
        match self {
            ObjectId::Schema(s) | ObjectId::Extension(s) | ObjectId::Server(s) => s,
            ObjectId::EventTrigger(e) => e,
            ObjectId::Cast(_, t) => t,
            ObjectId::DefaultPrivileges { on, .. } => on,
            ObjectId::Type(n)
            | ObjectId::Sequence(n)
            | ObjectId::Table(n)
            | ObjectId::Index(n)
            | ObjectId::View(n)
            | ObjectId::Function(n, _)
            | ObjectId::Collation(n)
            | ObjectId::Operator(n, _)
            | ObjectId::ForeignTable(n) => &n.name,
            ObjectId::Column(_, c)
            | ObjectId::Constraint(_, c)
            | ObjectId::Trigger(_, c)
            | ObjectId::Policy(_, c)
            | ObjectId::Default(_, c)
            | ObjectId::Rule(_, c) => c,
        }
    }
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
            ObjectId::View(v) => write!(f, "view {v}"),
            ObjectId::Function(n, args) => write!(f, "function {n}({args})"),
            ObjectId::Trigger(t, n) => write!(f, "trigger {n} on {t}"),
            ObjectId::Policy(t, n) => write!(f, "policy {n} on {t}"),
            ObjectId::Default(t, c) => write!(f, "default of {t}.{c}"),
            ObjectId::Collation(c) => write!(f, "collation {c}"),
            ObjectId::Rule(t, n) => write!(f, "rule {n} on {t}"),
            ObjectId::Operator(n, args) => write!(f, "operator {n}({args})"),
            ObjectId::Cast(s, t) => write!(f, "cast ({s} AS {t})"),
            ObjectId::ForeignTable(t) => write!(f, "foreign table {t}"),
            ObjectId::Server(s) => write!(f, "server {s}"),
            ObjectId::EventTrigger(e) => write!(f, "event trigger {e}"),
            ObjectId::DefaultPrivileges { role, schema, on } => {
                write!(f, "default privileges on {}", on.to_lowercase())?;
                if let Some(r) = role {
                    write!(f, " for role {r}")?;
                }
                match schema {
                    Some(s) => write!(f, " in schema {s}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// `name` with `suffix`, shortened so the whole stays within PostgreSQL's 63 bytes (which
/// would otherwise cut the suffix off and collide with `name`).
pub fn with_suffix(name: &str, suffix: &str) -> String {
    let mut end = name.len().min(63 - suffix.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &name[..end])
}
