//! Catalog x Catalog -> the changes that turn the first into the second.
//!
//! Objects are paired by identity (qualified name); each kind has its own differ. The result is
//! unordered: `plan` orders it.

mod enums;
mod indexes;
mod namespaces;
mod sequences;
mod tables;

use std::collections::BTreeSet;

use crate::catalog::{
    Catalog, Column, Constraint, EnumType, Extension, Index, ObjectId, QualifiedName, Schema,
    Sequence, SequenceOptions, Table,
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
    /// New type and collation; `rewrites` when PostgreSQL must rewrite the table.
    SetType {
        type_sql: String,
        collation: Option<String>,
        rewrites: bool,
        cast: Cast,
    },
    DropNotNull,
    /// Before a new identity, which needs NOT NULL.
    SetNotNull,
    /// `continues`: a sequence new in this plan that the default takes values from, set past
    /// the values the column already holds.
    SetDefault {
        default: String,
        continues: Option<QualifiedName>,
    },
    AddIdentity {
        always: bool,
        options: SequenceOptions,
        sequence: QualifiedName,
    },
    SetIdentityKind {
        always: bool,
    },
    SetIdentityOptions(SequenceOptions),
}

impl ColumnAction {
    /// Whether the action takes on something new (a default, an identity, NOT NULL), and so
    /// runs after the column let go of the old (see `diff::tables`).
    pub fn takes_on(&self) -> bool {
        matches!(
            self,
            ColumnAction::SetNotNull
                | ColumnAction::SetDefault { .. }
                | ColumnAction::AddIdentity { .. }
                | ColumnAction::SetIdentityKind { .. }
                | ColumnAction::SetIdentityOptions(_)
        )
    }
}

/// How existing values reach a column's new type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cast {
    /// PostgreSQL's assignment cast: no `USING`; a value that does not fit is an error, never
    /// silently cut (an explicit cast to `varchar(n)` would truncate).
    Assignment,
    /// `USING col::type`: from a string to anything else, or to and from boolean.
    Explicit,
    /// `USING col::text::type`: there is no cast between two enum types.
    ViaText,
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
    replace_dependents(current, desired, &mut changes);
    changes
}

/// Objects a change drops and creates again under the same name, or rebuilds in place.
fn replaced(changes: &[Change]) -> BTreeSet<ObjectId> {
    let mut dropped = BTreeSet::new();
    let mut created = BTreeSet::new();
    let mut rebuilt = BTreeSet::new();
    for c in changes {
        match c {
            Change::DropConstraint { table, constraint } => {
                dropped.insert(ObjectId::Constraint(table.clone(), constraint.name.clone()));
            }
            Change::AddConstraint { table, constraint } => {
                created.insert(ObjectId::Constraint(table.clone(), constraint.name.clone()));
            }
            Change::DropIndex(i) => {
                dropped.insert(ObjectId::Index(i.name.clone()));
            }
            Change::CreateIndex(i) => {
                created.insert(ObjectId::Index(i.name.clone()));
            }
            Change::DropColumn { table, column, .. } => {
                dropped.insert(ObjectId::Column(table.clone(), column.name.clone()));
            }
            Change::AddColumn { table, column, .. } => {
                created.insert(ObjectId::Column(table.clone(), column.name.clone()));
            }
            Change::RecreateEnum { columns, .. } => {
                rebuilt.extend(
                    columns.iter().map(|c| ObjectId::Column(c.table.clone(), c.column.clone())),
                );
            }
            _ => {}
        }
    }
    rebuilt.extend(dropped.intersection(&created).cloned());
    rebuilt
}

/// Constraints and indexes that did not change but stand on a replaced object (a recreated
/// key, column or enum) are dropped and created again around it, with their comments:
/// PostgreSQL would refuse the drop, drop them silently, or keep them bound to the old type.
fn replace_dependents(current: &Catalog, desired: &Catalog, changes: &mut Vec<Change>) {
    loop {
        let replaced = replaced(changes);
        let mut added = Vec::new();
        for (name, table) in &current.tables {
            let Some(wanted) = desired.tables.get(name) else { continue };
            for c in table.constraints.values() {
                let id = ObjectId::Constraint(name.clone(), c.name.clone());
                let Some(w) = wanted.constraints.get(&c.name) else { continue };
                let stands_on_replaced = c.depends_on.iter().any(|d| replaced.contains(d))
                    || c.columns
                        .iter()
                        .any(|col| replaced.contains(&ObjectId::Column(name.clone(), col.clone())));
                if stands_on_replaced && !replaced.contains(&id) {
                    added.push(Change::DropConstraint {
                        table: name.clone(),
                        constraint: c.clone(),
                    });
                    added
                        .push(Change::AddConstraint { table: name.clone(), constraint: w.clone() });
                    if w.comment.is_some() {
                        let target = CommentTarget::Constraint(name.clone(), w.name.clone());
                        added.push(Change::Comment { target, comment: w.comment.clone() });
                    }
                }
            }
        }
        for (name, index) in &current.indexes {
            let Some(wanted) = desired.indexes.get(name) else { continue };
            let id = ObjectId::Index(name.clone());
            let stands_on_replaced = index
                .columns
                .iter()
                .any(|c| replaced.contains(&ObjectId::Column(index.table.clone(), c.clone())));
            if stands_on_replaced
                && !replaced.contains(&id)
                && desired.tables.contains_key(&index.table)
            {
                added.push(Change::DropIndex(index.clone()));
                added.push(Change::CreateIndex(wanted.clone()));
                if wanted.comment.is_some() {
                    let target = CommentTarget::Index(name.clone());
                    added.push(Change::Comment { target, comment: wanted.comment.clone() });
                }
            }
        }
        if added.is_empty() {
            return;
        }
        // A replaced key makes the foreign keys on it replaced too: go round again.
        changes.extend(added);
    }
}

/// Pairs two maps by key: (only in a, in both, only in b), in key order.
pub(crate) fn pair<'a, K: Ord, V>(
    a: &'a std::collections::BTreeMap<K, V>,
    b: &'a std::collections::BTreeMap<K, V>,
) -> (Vec<&'a V>, Vec<(&'a V, &'a V)>, Vec<&'a V>) {
    let removed = a.iter().filter(|(k, _)| !b.contains_key(k)).map(|(_, v)| v).collect();
    let kept = a.iter().filter_map(|(k, v)| b.get(k).map(|w| (v, w))).collect();
    let added = b.iter().filter(|(k, _)| !a.contains_key(k)).map(|(_, v)| v).collect();
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
