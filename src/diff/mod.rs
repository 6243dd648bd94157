//! Catalog x Catalog -> the changes that turn the first into the second.
//!
//! Objects are paired by identity (qualified name); each kind has its own differ. The result is
//! unordered: `plan` orders it.

mod enums;
mod indexes;
mod namespaces;
mod sequences;
mod tables;

use crate::catalog::{
    Catalog, Column, Constraint, EnumType, Extension, Index, QualifiedName, Schema, Sequence,
    SequenceOptions, Table,
};

/// What a `COMMENT ON` targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentTarget {
    Schema(String),
    Type(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, String),
    Constraint(QualifiedName, String),
    Index(QualifiedName),
}

/// One alteration of an existing column, in the order they must run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnAction {
    DropDefault,
    DropIdentity,
    DropExpression,
    /// New type and collation; `rewrites` when PostgreSQL must rewrite the table;
    /// `via_text` when there is no direct cast (one enum to another).
    SetType {
        type_sql: String,
        collation: Option<String>,
        rewrites: bool,
        via_text: bool,
    },
    SetDefault(String),
    AddIdentity {
        always: bool,
        options: SequenceOptions,
        sequence: QualifiedName,
    },
    SetIdentityKind {
        always: bool,
    },
    SetIdentityOptions(SequenceOptions),
    DropNotNull,
    SetNotNull,
}

/// A column whose enum type is recreated, with its default before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumColumn {
    pub table: QualifiedName,
    pub column: String,
    pub type_sql: String,
    pub default_before: Option<String>,
    pub default_after: Option<String>,
}

/// One change between two catalogs.
// A plan holds tens of changes, not millions: plain variants read better than boxes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateSchema(Schema),
    DropSchema {
        schema: Schema,
        tables: usize,
    },
    CreateExtension(Extension),
    DropExtension(Extension),
    AlterExtensionSchema {
        name: String,
        schema: String,
        previous: String,
    },
    CreateEnum(EnumType),
    DropEnum(EnumType),
    AddEnumValue {
        name: QualifiedName,
        value: String,
        before: Option<String>,
    },
    /// Labels removed or reordered: a new type replaces the old one in every column using it.
    RecreateEnum {
        from: EnumType,
        to: EnumType,
        columns: Vec<EnumColumn>,
    },
    CreateSequence(Sequence),
    /// `also_dropped_with` is set when dropping a column or table drops it already.
    DropSequence(Sequence),
    AlterSequence {
        name: QualifiedName,
        from: SequenceOptions,
        to: SequenceOptions,
    },
    SetSequenceOwner {
        name: QualifiedName,
        owner: Option<(QualifiedName, String)>,
        previous: Option<(QualifiedName, String)>,
    },
    CreateTable(Table),
    /// `owned_sequences` are the sequences dropped with it.
    DropTable {
        table: Table,
        owned_sequences: Vec<QualifiedName>,
    },
    AddColumn {
        table: QualifiedName,
        column: Column,
        table_is_new: bool,
    },
    DropColumn {
        table: QualifiedName,
        column: Column,
        owned_sequences: Vec<QualifiedName>,
    },
    AlterColumn {
        table: QualifiedName,
        from: Column,
        to: Column,
        actions: Vec<ColumnAction>,
    },
    AddConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    DropConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    CreateIndex(Index),
    DropIndex(Index),
    Comment {
        target: CommentTarget,
        comment: Option<String>,
    },
}

impl Change {
    /// Whether the change must be committed before later statements may use what it made:
    /// PostgreSQL refuses a new enum value in the transaction that added it.
    pub fn commits_before_use(&self) -> bool {
        matches!(self, Change::AddEnumValue { .. })
    }
}

/// Everything that turns `current` into `desired`.
pub fn diff(current: &Catalog, desired: &Catalog) -> Vec<Change> {
    let mut changes = Vec::new();
    namespaces::diff(current, desired, &mut changes);
    enums::diff(current, desired, &mut changes);
    sequences::diff(current, desired, &mut changes);
    tables::diff(current, desired, &mut changes);
    indexes::diff(current, desired, &mut changes);
    changes
}

/// Pairs two maps by key: (only in a, in both, only in b), in key order.
pub(crate) fn pair<'a, K: Ord, V>(
    a: &'a std::collections::BTreeMap<K, V>,
    b: &'a std::collections::BTreeMap<K, V>,
) -> (Vec<&'a V>, Vec<(&'a V, &'a V)>, Vec<&'a V>) {
    let removed = a
        .iter()
        .filter(|(k, _)| !b.contains_key(k))
        .map(|(_, v)| v)
        .collect();
    let kept = a
        .iter()
        .filter_map(|(k, v)| b.get(k).map(|w| (v, w)))
        .collect();
    let added = b
        .iter()
        .filter(|(k, _)| !a.contains_key(k))
        .map(|(_, v)| v)
        .collect();
    (removed, kept, added)
}

/// Whether `sequence` disappears on its own when `current` turns into `desired`, because the
/// column that owns it is dropped.
pub(crate) fn dropped_with_owner(sequence: &Sequence, desired: &Catalog) -> bool {
    let Some((table, column)) = &sequence.owned_by else {
        return false;
    };
    match desired.tables.get(table) {
        None => true,
        Some(t) => t.column(column).is_none(),
    }
}
