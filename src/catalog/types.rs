//! Domains and composite types (enums live in `mod.rs`).

use std::collections::BTreeMap;

use super::QualifiedName;

/// A domain over a base type, with its named check constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub name: QualifiedName,
    /// `format_type` of the base type.
    pub base_type: String,
    pub collation: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
    /// Constraint name -> `pg_get_constraintdef` (`CHECK (...)`, with `NOT VALID` if so).
    pub constraints: BTreeMap<String, String>,
    pub comment: Option<String>,
}

/// One attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub type_sql: String,
    pub collation: Option<String>,
}

/// `CREATE TYPE ... AS (...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeType {
    pub name: QualifiedName,
    pub attributes: Vec<Attribute>,
    pub comment: Option<String>,
    /// `COMMENT ON COLUMN` of its attributes.
    pub column_comments: BTreeMap<String, String>,
}

impl CompositeType {
    /// Whether `ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE` can turn `self` into `to`: the
    /// attributes both have keep their relative order (PostgreSQL cannot reorder them).
    pub fn alterable_to(&self, to: &CompositeType) -> bool {
        let kept = |from: &CompositeType, other: &CompositeType| -> Vec<String> {
            from.attributes
                .iter()
                .filter(|a| other.attributes.iter().any(|b| b.name == a.name))
                .map(|a| a.name.clone())
                .collect()
        };
        kept(self, to) == kept(to, self)
    }
}

/// `CREATE TYPE ... AS RANGE`; its multirange type comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeType {
    pub name: QualifiedName,
    pub subtype: String,
    /// Each option PostgreSQL keeps beyond the subtype, as `CREATE TYPE` spells it
    /// (`subtype_opclass`, `collation`, `canonical`, `subtype_diff`, `multirange_type_name`).
    pub options: Vec<(String, String)>,
    pub comment: Option<String>,
}
