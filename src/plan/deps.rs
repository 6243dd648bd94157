//! What each change creates, drops, alters, needs and lets go of, as object identities.
//! The plan orders steps from these alone.

use std::borrow::Cow;
use std::sync::Arc;

use crate::catalog::{Dependencies, Name, ObjectId, QualifiedName, ReplicaIdentity};
use crate::diff::{Change, ColumnAction, CommentTarget, made_with};

/// The objects one step touches: as identities, or (`Touches<u32>`) as their numbers in the
/// plan's `Objects`.
#[derive(Debug, Clone)]
pub struct Touches<Id = ObjectId> {
    /// Objects that exist after the step and not before.
    pub creates: Vec<Id>,
    /// Objects that exist before the step and not after.
    pub drops: Vec<Id>,
    /// Objects changed in place.
    pub alters: Vec<Id>,
    /// Objects that must exist when the step runs (references in the desired state).
    pub requires: Vec<Id>,
    /// Objects the step stops referring to (references in the current state): it runs before
    /// they are dropped or changed.
    pub releases: Vec<Id>,
    /// Objects that must exist when the step runs, whatever else changes them around it (a
    /// check on a column: the column must be made first, its NOT NULL may come later).
    pub exists: Vec<Id>,
    /// Objects the step detaches from, which need only outlive it: it runs before they are
    /// dropped (a sequence's old owner column, which would take the sequence with it).
    pub detaches: Vec<Id>,
}

impl<Id> Default for Touches<Id> {
    fn default() -> Self {
        Touches {
            creates: Vec::new(),
            drops: Vec::new(),
            alters: Vec::new(),
            requires: Vec::new(),
            releases: Vec::new(),
            exists: Vec::new(),
            detaches: Vec::new(),
        }
    }
}

impl Touches {
    /// The same touches, each object by its number in `objects`.
    pub(super) fn numbered(self, objects: &mut Objects) -> Touches<u32> {
        let mut number =
            |ids: Vec<ObjectId>| ids.into_iter().map(|id| objects.number(Cow::Owned(id))).collect();
        Touches {
            creates: number(self.creates),
            drops: number(self.drops),
            alters: number(self.alters),
            requires: number(self.requires),
            releases: number(self.releases),
            exists: number(self.exists),
            detaches: number(self.detaches),
        }
    }
}

/// The objects a plan's steps touch, each held once and numbered in the order first named:
/// the steps name them by number. A plan from nothing at 10,000 tables names 200,000 objects
/// hundreds of thousands of times, and each identity is two or three strings. An identity the
/// catalogs' edges hold already is shared with them, not copied: the touches and objects of
/// such a plan went from 38 to 22 MB.
#[derive(Debug)]
pub(super) struct Objects<'c> {
    numbered: indexmap::IndexSet<Arc<ObjectId>>,
    known: [&'c Dependencies; 2],
}

impl<'c> Objects<'c> {
    /// Objects that share the identities `known` holds.
    pub(super) fn sharing(known: [&'c Dependencies; 2]) -> Objects<'c> {
        Objects { numbered: Default::default(), known }
    }

    /// The number of `id`, numbering it when it is new. An identity neither catalog holds is
    /// copied only then, and not at all when the caller owns it.
    pub(super) fn number(&mut self, id: Cow<'_, ObjectId>) -> u32 {
        if let Some(at) = self.numbered.get_index_of(id.as_ref()) {
            return at as u32;
        }
        let known = self.known.iter().find_map(|edges| edges.identity(&id));
        let shared = known.map_or_else(|| Arc::new(id.into_owned()), Arc::clone);
        self.numbered.insert_full(shared).0 as u32
    }

    pub(super) fn get(&self, number: u32) -> &ObjectId {
        &self.numbered[number as usize]
    }

    pub(super) fn len(&self) -> usize {
        self.numbered.len()
    }
}

fn schema_of(name: &QualifiedName) -> ObjectId {
    ObjectId::Schema(name.schema.clone())
}

fn columns<N: AsRef<str>>(table: &QualifiedName, names: &[N]) -> impl Iterator<Item = ObjectId> {
    names.iter().map(move |c| ObjectId::Column(table.clone(), c.as_ref().into()))
}

pub fn touches(change: &Change) -> Touches {
    let mut t = Touches::default();
    match change {
        Change::CreateSchema(s) => t.creates.push(ObjectId::Schema(Name::from(&s.name))),
        Change::DropSchema { schema, .. } => {
            t.drops.push(ObjectId::Schema(Name::from(&schema.name)))
        }
        Change::CreateExtension(e) => {
            t.creates.push(ObjectId::Extension(Name::from(&e.name)));
            t.requires.push(ObjectId::Schema(Name::from(&e.schema)));
        }
        Change::DropExtension(e) => {
            t.drops.push(ObjectId::Extension(Name::from(&e.name)));
            t.releases.push(ObjectId::Schema(Name::from(&e.schema)));
        }
        Change::UpdateExtension { name, .. } => {
            t.alters.push(ObjectId::Extension(name.into()));
        }
        Change::AlterExtensionSchema { name, schema, previous } => {
            t.alters.push(ObjectId::Extension(name.into()));
            t.requires.push(ObjectId::Schema(schema.into()));
            t.releases.push(ObjectId::Schema(previous.into()));
        }
        Change::CreateEnum(e) => {
            t.creates.push(ObjectId::Type(e.name.clone()));
            t.requires.push(schema_of(&e.name));
        }
        Change::DropEnum(e) => {
            t.drops.push(ObjectId::Type(e.name.clone()));
            t.releases.push(schema_of(&e.name));
        }
        // New values are committed before everything else (see `graph_of`), so they take part
        // in no ordering.
        Change::AddEnumValue { .. } => {}
        Change::RenameEnumValue { name, .. } => t.alters.push(ObjectId::Type(name.clone())),
        Change::RecreateEnum { to, columns, .. } => {
            t.alters.push(ObjectId::Type(to.name.clone()));
            t.alters.extend(
                columns.iter().map(|c| ObjectId::Column(c.table.clone(), Name::from(&c.column))),
            );
        }
        Change::CreateSequence(s) => {
            t.creates.push(ObjectId::Sequence(s.name.clone()));
            t.requires.push(schema_of(&s.name));
        }
        Change::DropSequence(s) => {
            t.drops.push(ObjectId::Sequence(s.name.clone()));
            t.releases.push(schema_of(&s.name));
        }
        Change::AlterSequence { name, .. } => t.alters.push(ObjectId::Sequence(name.clone())),
        // Ownership changes nothing others read, so it is not an alteration of the sequence.
        Change::SetSequenceOwner { name, owner, previous } => {
            // Letting go needs only the sequence as it is; taking an owner, the sequence made.
            if owner.is_some() {
                t.requires.push(ObjectId::Sequence(name.clone()));
            } else {
                t.detaches.push(ObjectId::Sequence(name.clone()));
            }
            if let Some((table, column)) = owner {
                t.requires.push(ObjectId::Column(table.clone(), column.clone()));
            }
            if let Some((table, column)) = previous {
                t.detaches.push(ObjectId::Column(table.clone(), column.clone()));
            }
        }
        Change::CreateTable { table, later } => {
            t.creates.push(ObjectId::Table(table.name.clone()));
            t.requires.push(schema_of(&table.name));
            for c in table.columns.iter() {
                t.creates.push(ObjectId::Column(table.name.clone(), c.name.clone()));
                if c.default.is_some() || c.generated.is_some() {
                    t.creates.push(ObjectId::Default(table.name.clone(), c.name.clone()));
                }
                t.requires.extend(c.depends_on.iter().cloned());
            }
            for c in made_with(table, later) {
                t.creates.push(ObjectId::Constraint(table.name.clone(), c.name.clone()));
                t.requires.extend(c.depends_on.iter().cloned());
            }
        }
        Change::DropTable { table, owned_sequences, owned_objects } => {
            t.drops.push(ObjectId::Table(table.name.clone()));
            t.releases.push(schema_of(&table.name));
            for c in table.columns.iter() {
                t.drops.push(ObjectId::Column(table.name.clone(), c.name.clone()));
                if c.default.is_some() || c.generated.is_some() {
                    t.drops.push(ObjectId::Default(table.name.clone(), c.name.clone()));
                }
                t.releases.extend(c.depends_on.iter().cloned());
            }
            for c in table.constraints.values() {
                t.drops.push(ObjectId::Constraint(table.name.clone(), c.name.clone()));
                t.releases.extend(c.depends_on.iter().cloned());
            }
            t.drops.extend(owned_sequences.iter().cloned().map(ObjectId::Sequence));
            t.drops.extend(owned_objects.iter().map(|o| o.id()));
        }
        Change::AddColumn { table, column, inherited_by, .. } => {
            t.creates.push(ObjectId::Column(table.clone(), column.name.clone()));
            t.creates.extend(
                inherited_by
                    .iter()
                    .map(|child| ObjectId::Column(child.clone(), column.name.clone())),
            );
            // A generation expression is kept where a default is.
            if column.default.is_some() || column.generated.is_some() {
                t.creates.push(ObjectId::Default(table.clone(), column.name.clone()));
            }
            t.requires.push(ObjectId::Table(table.clone()));
            t.requires.extend(column.depends_on.iter().cloned());
        }
        Change::DropColumn { table, column, owned_sequences, inherited_by, .. } => {
            t.drops.push(ObjectId::Column(table.clone(), column.name.clone()));
            t.drops.extend(
                inherited_by
                    .iter()
                    .map(|child| ObjectId::Column(child.clone(), column.name.clone())),
            );
            if column.default.is_some() || column.generated.is_some() {
                t.drops.push(ObjectId::Default(table.clone(), column.name.clone()));
            }
            t.releases.extend(column.depends_on.iter().cloned());
            t.drops.extend(owned_sequences.iter().cloned().map(ObjectId::Sequence));
        }
        // The diff splits a column's alterations in two: the step that lets go of the old
        // default, identity and type, and the step that takes on the new ones after it.
        Change::AlterColumn { table, from, to, actions } => {
            let column = ObjectId::Column(table.clone(), to.name.clone());
            let default = ObjectId::Default(table.clone(), to.name.clone());
            if actions.contains(&ColumnAction::DropDefault) {
                t.drops.push(default.clone());
            }
            if actions.iter().any(|a| matches!(a, ColumnAction::SetDefault { .. })) {
                t.creates.push(default);
            }
            if actions.iter().any(ColumnAction::takes_on) {
                t.requires.push(column);
                t.requires.extend(to.depends_on.iter().cloned());
                for a in actions {
                    if let ColumnAction::AddIdentity { sequence, .. } = a {
                        t.creates.push(ObjectId::Sequence(sequence.clone()));
                    }
                }
            } else {
                t.alters.push(column);
                t.releases.extend(from.depends_on.iter().cloned());
                // A new type may be a new enum or an extension's type.
                t.requires.extend(
                    to.depends_on.iter().filter(|d| !matches!(d, ObjectId::Sequence(_))).cloned(),
                );
                if let (Some(i), true) =
                    (&from.identity, actions.contains(&ColumnAction::DropIdentity))
                {
                    t.drops.push(ObjectId::Sequence(i.sequence_name.clone()));
                }
            }
        }
        Change::AddConstraint { table, constraint, .. } => {
            t.creates.push(ObjectId::Constraint(table.clone(), constraint.name.clone()));
            t.requires.push(ObjectId::Table(table.clone()));
            t.requires.extend(columns(table, &constraint.columns));
            t.requires.extend(constraint.depends_on.iter().cloned());
        }
        Change::DropConstraint { table, constraint } => {
            t.drops.push(ObjectId::Constraint(table.clone(), constraint.name.clone()));
            t.releases.extend(columns(table, &constraint.columns));
            t.releases.extend(constraint.depends_on.iter().cloned());
        }
        Change::CreateIndex { index: i, .. } => {
            t.creates.push(ObjectId::Index(i.name.clone()));
            t.requires.push(ObjectId::Table(i.table.clone()));
            t.requires.extend(columns(&i.table, &i.columns));
        }
        Change::DropIndex { index: i, .. } => {
            t.drops.push(ObjectId::Index(i.name.clone()));
            t.releases.extend(columns(&i.table, &i.columns));
        }
        Change::ReplaceIndex { from, to } => {
            t.drops.push(ObjectId::Index(from.name.clone()));
            t.creates.push(ObjectId::Index(to.name.clone()));
            t.requires.push(ObjectId::Table(to.table.clone()));
            t.requires.extend(columns(&to.table, &to.columns));
            t.releases.extend(columns(&from.table, &from.columns));
        }
        // After the new column and the trigger that keeps it in step; what the new column takes
        // on (NOT NULL, keys, indexes) comes after the copy, since it alters the column.
        Change::Backfill { table, column, from, trigger } => {
            t.alters.push(ObjectId::Column(table.clone(), column.into()));
            t.requires.push(ObjectId::Column(table.clone(), column.into()));
            t.requires.push(ObjectId::Column(table.clone(), from.into()));
            t.requires.push(ObjectId::Trigger(table.clone(), trigger.into()));
        }
        // Renames run before the rest of a plan, which is planned from the renamed state.
        Change::Rename { from, to, .. } => {
            t.drops.push(from.clone());
            t.creates.push(from.renamed(to));
        }
        // Validating lets go of nothing, so nothing waits for it.
        Change::ValidateConstraint { table, name } => {
            t.requires.push(ObjectId::Constraint(table.clone(), name.into()));
        }
        Change::ProveNotNull { table, column, check } => {
            t.creates.push(ObjectId::Constraint(table.clone(), check.into()));
            t.requires.push(ObjectId::Table(table.clone()));
            t.exists.push(ObjectId::Column(table.clone(), column.into()));
        }
        // After the check is made; it validates the check, sets NOT NULL and drops the check.
        // After whatever else changes the column (a backfill fills it first); it changes
        // nothing another step waits for.
        Change::SetNotNullProven { table, column, check, .. } => {
            t.requires.push(ObjectId::Column(table.clone(), column.into()));
            t.requires.push(ObjectId::Constraint(table.clone(), check.into()));
        }
        Change::SetRowSecurity { table, .. } => t.requires.push(ObjectId::Table(table.clone())),
        Change::AttachPartition { table, partition } => {
            t.alters.push(ObjectId::Table(table.clone()));
            t.requires.push(ObjectId::Table(partition.parent.clone()));
        }
        Change::DetachPartition { table, parent } => {
            t.alters.push(ObjectId::Table(table.clone()));
            t.releases.push(ObjectId::Table(parent.clone()));
        }
        Change::SetInherits { table, from, to, .. } => {
            t.alters.push(ObjectId::Table(table.clone()));
            t.requires.extend(to.iter().cloned().map(ObjectId::Table));
            t.releases.extend(from.iter().cloned().map(ObjectId::Table));
        }
        Change::SetTableProperties { table, to, from } => {
            t.requires.push(ObjectId::Table(table.clone()));
            if let ReplicaIdentity::Index(i) = &to.replica_identity {
                t.requires
                    .push(ObjectId::Index(QualifiedName::new(table.schema.clone(), i.clone())));
                t.requires.push(ObjectId::Constraint(table.clone(), i.into()));
            }
            if let ReplicaIdentity::Index(i) = &from.replica_identity {
                t.releases
                    .push(ObjectId::Index(QualifiedName::new(table.schema.clone(), i.clone())));
                t.releases.push(ObjectId::Constraint(table.clone(), i.into()));
            }
        }
        Change::CreateObject(o) => {
            t.creates.push(o.id());
            t.requires.extend(o.id().schema().map(|s| ObjectId::Schema(s.into())));
            t.requires.extend(o.relation().map(|r| ObjectId::Table(r.clone())));
        }
        Change::DropObject(o) => {
            t.drops.push(o.id());
            t.releases.extend(o.id().schema().map(|s| ObjectId::Schema(s.into())));
        }
        Change::ReplaceObject { to, .. } | Change::AlterObject { to, .. } => {
            t.alters.push(to.id());
        }
        // Ownership and privileges change nothing other steps read.
        Change::SetAccess { id, .. } => match id {
            ObjectId::DefaultPrivileges { schema, .. } => {
                t.requires.extend(schema.iter().map(|s| ObjectId::Schema(s.clone())))
            }
            _ => t.requires.push(id.clone()),
        },
        Change::Comment { target, .. } => {
            // A column of a view or composite type is made with it.
            if let CommentTarget::Column(n, _) = target {
                t.requires.push(ObjectId::View(n.clone()));
                t.requires.push(ObjectId::Type(n.clone()));
                t.requires.push(ObjectId::ForeignTable(n.clone()));
            }
            t.requires.push(match target {
                CommentTarget::Schema(s) => ObjectId::Schema(s.into()),
                CommentTarget::Type(n) => ObjectId::Type(n.clone()),
                CommentTarget::Table(n) => ObjectId::Table(n.clone()),
                CommentTarget::Column(n, c) => ObjectId::Column(n.clone(), c.into()),
                CommentTarget::Constraint(t, c) => ObjectId::Constraint(t.clone(), c.into()),
                CommentTarget::Index(i) => ObjectId::Index(i.clone()),
                CommentTarget::Sequence(s) => ObjectId::Sequence(s.clone()),
                CommentTarget::Object { id, .. } => id.clone(),
            })
        }
    }
    t
}
