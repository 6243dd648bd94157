//! Catalog x Catalog -> the changes that turn the first into the second.
//!
//! Objects are paired by identity (qualified name); each kind has its own differ. The result is
//! unordered: `plan` orders it.

mod enums;
mod guards;
mod indexes;
mod namespaces;
mod objects;
mod privileges;
mod sequences;
mod tables;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::catalog::{
    Catalog, Column, Constraint, EnumType, Extension, Index, Name, Object, ObjectId, ObjectKind,
    QualifiedName, Schema, Sequence, SequenceOptions, Table, TableProperties,
};

pub use guards::{refuse_missing_roles, refuse_unmanaged};
pub use objects::{Delta, delta};

/// What a `COMMENT ON` targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentTarget {
    Schema(String),
    Type(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, String),
    Constraint(QualifiedName, String),
    Index(QualifiedName),
    Sequence(QualifiedName),
    /// A view, routine, trigger, policy, domain or composite type.
    Object {
        id: ObjectId,
        kind: ObjectKind,
    },
}

/// How a step reaches a table that may hold rows and serve queries while it runs. The differ
/// says `No`; the plan decides the rest once it knows which tables the plan itself creates
/// (see `plan::online`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Busy {
    /// The table is new in this plan, or goes with it: nothing waits on it.
    #[default]
    No,
    /// Done without blocking writes (`CONCURRENTLY`; `NOT VALID`, then `VALIDATE`).
    Online,
    /// PostgreSQL has no online form here (a partitioned table): writes wait until it is done.
    Blocking,
}

/// One alteration of an existing column, in the order they must run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnAction {
    DropDefault,
    DropIdentity,
    DropExpression,
    /// New type and collation; `rewrites` when PostgreSQL must rewrite the table; `keeps`
    /// when no value can silently change in the cast: each survives unchanged, or (a string
    /// too long for a narrower type) the statement fails instead.
    SetType {
        type_sql: String,
        collation: Option<String>,
        rewrites: bool,
        keeps: bool,
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
    /// A storage letter (`p`, `e`, `m`, `x`).
    SetStorage(char),
    /// `None`: back to the default method.
    SetCompression(Option<char>),
    /// `None`: back to the default target.
    SetStatistics(Option<i32>),
    /// PostgreSQL 18's name of the NOT NULL constraint, once the column is NOT NULL (`from`
    /// is then the name it kept, or the one SET NOT NULL gave it).
    RenameNotNull {
        from: String,
        to: String,
    },
}

impl ColumnAction {
    /// Whether the action takes on something new (a default, an identity, NOT NULL), and so
    /// runs after the column let go of the old (see `diff::tables`).
    pub fn takes_on(&self) -> bool {
        matches!(
            self,
            ColumnAction::SetNotNull
                | ColumnAction::RenameNotNull { .. }
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
// Large payloads are boxed: a plan that rebuilds a 10,000-table schema in the shadow holds
// 60,000 changes, and an unboxed change took 840 bytes.
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
    /// `ALTER EXTENSION ... UPDATE TO`, where `schema/` names the version.
    UpdateExtension {
        name: String,
        from: String,
        to: String,
    },
    CreateEnum(EnumType),
    DropEnum(EnumType),
    /// Placed `BEFORE` the next label that exists, else `AFTER` the one before it, so the
    /// position is said, not implied.
    AddEnumValue {
        name: QualifiedName,
        value: String,
        before: Option<String>,
        after: Option<String>,
    },
    /// `RENAME VALUE`: rows holding the label keep it under its new name.
    RenameEnumValue {
        name: QualifiedName,
        from: String,
        to: String,
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
        owner: Option<(QualifiedName, Name)>,
        previous: Option<(QualifiedName, Name)>,
    },
    /// The table as the desired catalog holds it (shared, not copied: at 10,000 tables a
    /// plan from nothing would copy them all), but for `later`: constraints added by steps
    /// of their own after it (see `made_with`).
    CreateTable {
        table: Arc<Table>,
        later: Vec<Name>,
    },
    /// `owned_sequences` are the sequences dropped with it.
    DropTable {
        table: Arc<Table>,
        owned_sequences: Vec<QualifiedName>,
        /// Its triggers, policies and rules that are not kept: they go with it, without a
        /// statement of their own (at 10,000 tables, 10,000 `DROP TRIGGER`s in one
        /// transaction cost seconds).
        owned_objects: Vec<Arc<Object>>,
    },
    AddColumn {
        table: QualifiedName,
        column: Box<Column>,
        table_is_new: bool,
        /// Child tables that take the column from this one.
        inherited_by: Vec<QualifiedName>,
    },
    DropColumn {
        table: QualifiedName,
        column: Box<Column>,
        /// The column that holds the same values and stays: a renamed column's other copy.
        kept_in: Option<String>,
        owned_sequences: Vec<QualifiedName>,
        /// Child tables whose inherited copy of the column goes with it.
        inherited_by: Vec<QualifiedName>,
    },
    AttachPartition {
        table: QualifiedName,
        partition: crate::catalog::PartitionOf,
    },
    DetachPartition {
        table: QualifiedName,
        parent: QualifiedName,
    },
    /// `INHERIT` / `NO INHERIT` of parent tables. `not_null_renames` (from, to) run between
    /// the two: a NOT NULL constraint that the parents let go keeps the old parent's name
    /// (PostgreSQL 18), and takes the new one's before the new parent's merges into it.
    SetInherits {
        table: QualifiedName,
        from: Vec<QualifiedName>,
        to: Vec<QualifiedName>,
        not_null_renames: Vec<(String, String)>,
    },
    AlterColumn {
        table: QualifiedName,
        from: Box<Column>,
        to: Box<Column>,
        actions: Vec<ColumnAction>,
    },
    /// On a table in use (`busy: Online`) a check or foreign key is added `NOT VALID` and
    /// validated by a `ValidateConstraint` of its own; a key is added `USING INDEX` built
    /// concurrently before it.
    AddConstraint {
        table: QualifiedName,
        constraint: Box<Constraint>,
        busy: Busy,
    },
    DropConstraint {
        table: QualifiedName,
        constraint: Box<Constraint>,
    },
    CreateIndex {
        index: Arc<Index>,
        busy: Busy,
    },
    DropIndex {
        index: Arc<Index>,
        busy: Busy,
    },
    /// A changed index on a table in use, replaced online: the new one is built concurrently
    /// under a temporary name, the old one dropped concurrently, and the new one renamed.
    ReplaceIndex {
        from: Arc<Index>,
        to: Arc<Index>,
    },
    /// Copies `from` into the new `column` of a table in use, in batches of pages that commit
    /// between them, while `trigger` keeps the two in step for writes that come meanwhile.
    Backfill {
        table: QualifiedName,
        column: String,
        from: String,
        trigger: String,
    },
    /// `ALTER ... RENAME`: `keyword` names the kind (`TABLE`, `INDEX`, `MATERIALIZED VIEW`,
    /// `FUNCTION`, ...); a column or constraint is renamed through its table.
    Rename {
        from: ObjectId,
        to: String,
        keyword: String,
    },
    /// `VALIDATE CONSTRAINT` of a constraint added `NOT VALID`: it reads the table without
    /// blocking writes.
    ValidateConstraint {
        table: QualifiedName,
        name: String,
    },
    /// The first step of `SET NOT NULL` on a table in use: a check that the column is not
    /// null, added `NOT VALID`, which `SetNotNullProven` validates.
    ProveNotNull {
        table: QualifiedName,
        column: String,
        check: String,
    },
    /// Validates `check` (writes go on), then sets NOT NULL, which the valid check proves
    /// without a scan under its lock, then drops the check; each statement commits itself.
    /// `rename`: PostgreSQL 18's NOT NULL then takes this name instead of the usual one.
    SetNotNullProven {
        table: QualifiedName,
        column: String,
        check: String,
        rename: Option<(String, String)>,
    },
    /// Persistence, storage parameters and replica identity.
    SetTableProperties {
        table: QualifiedName,
        from: TableProperties,
        to: TableProperties,
    },
    /// `ENABLE` / `FORCE ROW LEVEL SECURITY` on a table, or their opposites.
    SetRowSecurity {
        table: QualifiedName,
        enabled: bool,
        forced: bool,
    },
    CreateObject(Arc<Object>),
    DropObject(Arc<Object>),
    /// `CREATE OR REPLACE`: same identity, and PostgreSQL keeps what depends on it.
    ReplaceObject {
        from: Arc<Object>,
        to: Arc<Object>,
    },
    /// Changed in place with the kind's own `ALTER` statements.
    AlterObject {
        from: Arc<Object>,
        to: Arc<Object>,
    },
    Comment {
        target: CommentTarget,
        comment: Option<String>,
    },
    /// An object's owner and privileges brought to the desired ones: revokes first, then the
    /// owner (`Some(None)`: the role running the migration), then grants, so a role that
    /// becomes owner gives up its grants before and one that stops being owner gets its
    /// grants after.
    SetAccess {
        id: ObjectId,
        /// `Access::keyword`.
        keyword: String,
        owner: Option<Option<String>>,
        /// Privileges to revoke; `true`: only the grant option.
        revoke: Vec<(crate::catalog::Privilege, bool)>,
        /// Privileges to grant; `true`: with grant option.
        grant: Vec<(crate::catalog::Privilege, bool)>,
    },
}

impl Change {
    /// The index shared with the catalog it comes from, as the other steps' parts are.
    pub fn create_index(index: &Arc<Index>) -> Change {
        Change::CreateIndex { index: Arc::clone(index), busy: Busy::No }
    }

    pub fn add_constraint(table: &QualifiedName, constraint: &Constraint) -> Change {
        Change::AddConstraint {
            table: table.clone(),
            constraint: Box::new(constraint.clone()),
            busy: Busy::No,
        }
    }

    pub fn drop_index(index: &Arc<Index>) -> Change {
        Change::DropIndex { index: Arc::clone(index), busy: Busy::No }
    }
}

pub(crate) use tables::column_actions;

/// The constraints `CREATE TABLE` makes with `table`: all but those its step leaves `later`.
pub fn made_with<'t>(table: &'t Table, later: &'t [Name]) -> impl Iterator<Item = &'t Constraint> {
    table.constraints.values().filter(move |c| !later.contains(&c.name))
}

/// Everything that turns `current` into `desired`.
pub fn diff(current: &Catalog, desired: &Catalog) -> Vec<Change> {
    let mut changes = Vec::new();
    namespaces::diff(current, desired, &mut changes);
    enums::diff(current, desired, &mut changes);
    sequences::diff(current, desired, &mut changes);
    tables::diff(current, desired, &mut changes);
    indexes::diff(current, desired, &mut changes);
    objects::diff(current, desired, &mut changes);
    leave_defaults_to_enum_swaps(&mut changes);
    rebuild_dependents(current, desired, &mut changes);
    privileges::diff(current, desired, &mut changes);
    changes
}

/// A column whose enum type is swapped gets its new default from the swap (which must drop
/// the old one first), so its own default change goes: each change is said once.
fn leave_defaults_to_enum_swaps(changes: &mut Vec<Change>) {
    let swapped: BTreeSet<(QualifiedName, String)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::RecreateEnum { columns, .. } => Some(columns),
            _ => None,
        })
        .flatten()
        .map(|c| (c.table.clone(), c.column.clone()))
        .collect();
    if swapped.is_empty() {
        return;
    }
    changes.retain_mut(|c| match c {
        Change::AlterColumn { table, to, actions, .. }
            if swapped.contains(&(table.clone(), to.name.to_string())) =>
        {
            actions.retain(|a| {
                !matches!(a, ColumnAction::DropDefault | ColumnAction::SetDefault { .. })
            });
            !actions.is_empty()
        }
        _ => true,
    });
}

/// Objects the changes drop and create again under the same identity, and columns whose
/// type changes: what stands on them must be rebuilt around the change.
fn invalidated(changes: &[Change]) -> Invalidated {
    let mut dropped = BTreeSet::new();
    let mut replaced = BTreeSet::new();
    let mut retyped = BTreeSet::new();
    named(changes, |role, id| {
        let set = match role {
            Role::Dropped => &mut dropped,
            Role::Replaced => &mut replaced,
            Role::Retyped => &mut retyped,
            Role::Created => return,
        };
        set.insert(id);
    });
    // Only what is dropped too is kept of what is created: a plan from nothing creates
    // 200,000 objects at 10,000 tables.
    let mut created = BTreeSet::new();
    named(changes, |role, id| {
        if role == Role::Created && dropped.contains(&id) {
            created.insert(id);
        }
    });
    replaced.extend(dropped.intersection(&created).cloned());
    let gone = dropped.difference(&created).cloned().collect();
    Invalidated { replaced, gone, retyped }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Dropped,
    Created,
    Replaced,
    Retyped,
}

/// Calls `each` with every object the changes drop, create, replace or retype.
fn named(changes: &[Change], mut each: impl FnMut(Role, ObjectId)) {
    for c in changes {
        match c {
            Change::DropConstraint { table, constraint } => {
                each(Role::Dropped, ObjectId::Constraint(table.clone(), constraint.name.clone()));
            }
            Change::AddConstraint { table, constraint, .. } => {
                each(Role::Created, ObjectId::Constraint(table.clone(), constraint.name.clone()));
            }
            Change::DropIndex { index, .. } => {
                each(Role::Dropped, ObjectId::Index(index.name.clone()));
            }
            Change::CreateIndex { index, .. } => {
                each(Role::Created, ObjectId::Index(index.name.clone()));
            }
            Change::ReplaceIndex { to, .. } => {
                each(Role::Replaced, ObjectId::Index(to.name.clone()));
            }
            Change::DropColumn { table, column, .. } => {
                each(Role::Dropped, ObjectId::Column(table.clone(), column.name.clone()));
            }
            Change::AddColumn { table, column, .. } => {
                each(Role::Created, ObjectId::Column(table.clone(), column.name.clone()));
            }
            Change::DropObject(o) => {
                each(Role::Dropped, o.id());
            }
            Change::DropTable { table, owned_objects, .. } => {
                each(Role::Dropped, ObjectId::Table(table.name.clone()));
                owned_objects.iter().for_each(|o| each(Role::Dropped, o.id()));
                for c in table.columns.iter() {
                    each(Role::Dropped, ObjectId::Column(table.name.clone(), c.name.clone()));
                }
            }
            Change::CreateTable { table, .. } => {
                each(Role::Created, ObjectId::Table(table.name.clone()));
                for c in table.columns.iter() {
                    each(Role::Created, ObjectId::Column(table.name.clone(), c.name.clone()));
                }
            }
            Change::CreateObject(o) => {
                each(Role::Created, o.id());
            }
            Change::RecreateEnum { to, columns, .. } => {
                each(Role::Replaced, ObjectId::Type(to.name.clone()));
                for c in columns {
                    each(Role::Replaced, ObjectId::Column(c.table.clone(), Name::from(&c.column)));
                }
            }
            Change::AlterColumn { table, to, actions, .. }
                if actions.iter().any(|a| matches!(a, ColumnAction::SetType { .. })) =>
            {
                each(Role::Retyped, ObjectId::Column(table.clone(), to.name.clone()));
            }
            _ => {}
        }
    }
}

/// What the changes take away from under other objects.
struct Invalidated {
    /// Dropped and created again.
    replaced: BTreeSet<ObjectId>,
    /// Dropped for good.
    gone: BTreeSet<ObjectId>,
    /// Columns whose type changes.
    retyped: BTreeSet<ObjectId>,
}

/// What the changes already alter in place (which lets go of what it no longer uses).
fn changed_in_place(changes: &[Change]) -> BTreeSet<ObjectId> {
    (changes.iter())
        .filter_map(|c| match c {
            Change::ReplaceObject { to, .. } | Change::AlterObject { to, .. } => Some(to.id()),
            _ => None,
        })
        .collect()
}

/// Whatever stands on a replaced object (by PostgreSQL's dependency records) and did not
/// change itself is dropped and created again around it, transitively: a view on a view on a
/// table, the foreign keys on a recreated key, an index on a function. PostgreSQL would refuse
/// the drop, drop them silently, or keep them bound to the old object. A column whose type
/// changes takes its own indexes and constraints along; other dependents are rebuilt.
fn rebuild_dependents(current: &Catalog, desired: &Catalog, changes: &mut Vec<Change>) {
    loop {
        let Invalidated { replaced, gone, retyped } = invalidated(changes);
        let in_place = changed_in_place(changes);
        let mut rebuilt = BTreeSet::new();
        let mut added = Vec::new();
        let targets = (replaced.iter().map(|r| (r, Why::Replaced)))
            .chain(gone.iter().map(|r| (r, Why::Gone)))
            .chain(retyped.iter().map(|r| (r, Why::Retyped)));
        for (target, why) in targets {
            for x in current.depends.dependents(target) {
                let follows_type = matches!(x, ObjectId::Constraint(..) | ObjectId::Index(_));
                let skip = match why {
                    Why::Replaced => false,
                    Why::Gone => in_place.contains(x),
                    Why::Retyped => follows_type,
                };
                if skip || replaced.contains(x) || gone.contains(x) || rebuilt.contains(x) {
                    continue;
                }
                if let Some(steps) = rebuild(current, desired, x, changes) {
                    rebuilt.insert(x.clone());
                    added.extend(steps);
                }
            }
        }
        if added.is_empty() {
            return;
        }
        // A rebuilt object is created in its desired form: its in-place change goes.
        changes.retain(|c| match c {
            Change::ReplaceObject { to, .. } | Change::AlterObject { to, .. } => {
                !rebuilt.contains(&to.id())
            }
            Change::Comment { target: CommentTarget::Object { id, .. }, .. } => {
                !rebuilt.contains(id)
            }
            Change::Comment { target: CommentTarget::Column(n, _), .. } => {
                !rebuilt.contains(&ObjectId::View(n.clone()))
                    && !rebuilt.contains(&ObjectId::Type(n.clone()))
            }
            _ => true,
        });
        changes.extend(added);
    }
}

#[derive(Clone, Copy)]
enum Why {
    Replaced,
    Gone,
    Retyped,
}

/// The changes that drop `id` and create it again as desired, when it is kept and can be.
fn rebuild(
    current: &Catalog,
    desired: &Catalog,
    id: &ObjectId,
    changes: &[Change],
) -> Option<Vec<Change>> {
    match id {
        ObjectId::Constraint(table, name) => {
            let c = current.tables.get(table)?.constraints.get(name)?;
            let w = desired.tables.get(table)?.constraints.get(name)?;
            let mut out = vec![
                Change::DropConstraint { table: table.clone(), constraint: Box::new(c.clone()) },
                Change::add_constraint(table, w),
            ];
            if w.comment.is_some() {
                let target = CommentTarget::Constraint(table.clone(), name.to_string());
                out.push(Change::Comment { target, comment: w.comment.clone() });
            }
            Some(out)
        }
        ObjectId::Index(name) => {
            let index = current.indexes.get(name)?;
            let wanted = desired.indexes.get(name)?;
            if !desired.has_relation(&index.table) {
                return None;
            }
            let mut out = vec![Change::drop_index(index), Change::create_index(wanted)];
            if wanted.comment.is_some() {
                let target = CommentTarget::Index(name.clone());
                out.push(Change::Comment { target, comment: wanted.comment.clone() });
            }
            Some(out)
        }
        ObjectId::Default(table, column) => {
            let from = current.tables.get(table)?.column(column)?;
            let to = desired.tables.get(table)?.column(column)?;
            let default = to.default.clone()?;
            // A default that changes anyway is dropped and set by the column's own change.
            // So is the default of a column whose enum type is swapped.
            let handled = changes.iter().any(|c| match c {
                Change::AlterColumn { table: t, to: col, actions, .. } => {
                    t == table
                        && col.name == *column
                        && actions.iter().any(|a| {
                            matches!(a, ColumnAction::DropDefault | ColumnAction::SetDefault { .. })
                        })
                }
                Change::RecreateEnum { columns, .. } => {
                    columns.iter().any(|c| c.table == *table && c.column == *column)
                }
                _ => false,
            });
            if handled || from.default.is_none() {
                return None;
            }
            let alter = |actions| Change::AlterColumn {
                table: table.clone(),
                from: Box::new(from.clone()),
                to: Box::new(to.clone()),
                actions,
            };
            Some(vec![
                alter(vec![ColumnAction::DropDefault]),
                alter(vec![ColumnAction::SetDefault { default, continues: None }]),
            ])
        }
        _ => {
            let old = current.objects.get(id)?;
            let new = desired.objects.get(id)?;
            let mut out = vec![Change::DropObject(Arc::clone(old))];
            objects::create(new, &mut out);
            Some(out)
        }
    }
}

/// Pairs two maps by key: (only in a, in both, only in b), in key order. One walk down both
/// maps side by side (each lists its keys in order): a lookup per key cost `n log n` and a
/// cache miss per level at 10,000 tables.
pub(crate) fn pair<'a, K: Ord + 'a, V: 'a, M: ByKey<K, V>>(
    a: &'a M,
    b: &'a M,
) -> (Vec<&'a V>, Vec<(&'a V, &'a V)>, Vec<&'a V>) {
    let (mut removed, mut kept, mut added) = (Vec::new(), Vec::new(), Vec::new());
    let (mut a, mut b) = (a.entries().peekable(), b.entries().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some((ka, _)), Some((kb, _))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => removed.extend(a.next().map(|(_, v)| v)),
                std::cmp::Ordering::Greater => added.extend(b.next().map(|(_, v)| v)),
                std::cmp::Ordering::Equal => {
                    let ((_, v), (_, w)) = (a.next().expect("peeked"), b.next().expect("peeked"));
                    kept.push((v, w));
                }
            },
            (Some(_), None) => removed.extend(a.next().map(|(_, v)| v)),
            (None, Some(_)) => added.extend(b.next().map(|(_, v)| v)),
            (None, None) => return (removed, kept, added),
        }
    }
}

/// A map `pair` matches by key, listing its entries in key order: the catalog's trees, and a
/// table's constraints.
pub(crate) trait ByKey<K, V> {
    fn entries<'m>(&'m self) -> impl Iterator<Item = (&'m K, &'m V)>
    where
        K: 'm,
        V: 'm;
}

impl<K: Ord, V> ByKey<K, V> for std::collections::BTreeMap<K, V> {
    fn entries<'m>(&'m self) -> impl Iterator<Item = (&'m K, &'m V)>
    where
        K: 'm,
        V: 'm,
    {
        self.iter()
    }
}

impl<K: Ord, V> ByKey<K, V> for litemap::LiteMap<K, V> {
    fn entries<'m>(&'m self) -> impl Iterator<Item = (&'m K, &'m V)>
    where
        K: 'm,
        V: 'm,
    {
        self.iter()
    }
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
