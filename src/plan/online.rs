//! How each step must run on a busy database: in the file's transaction, in one of its own,
//! or outside any; which steps read a whole table (they get the long statement timeout); and
//! the online forms of steps on tables that exist before the plan, which may hold rows and
//! serve queries while it runs.

use std::collections::{BTreeMap, BTreeSet};

use super::deps::touches;
use crate::catalog::{
    Catalog, Constraint, ConstraintKind, FastMap, FastSet, Index, ObjectId, QualifiedName,
    with_suffix,
};
use crate::diff::{Busy, Change, ColumnAction};

/// Where a step's statements run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transaction {
    /// With the steps around it, in one transaction: all of them or none.
    File,
    /// In a transaction of its own, so the lock it takes is held no longer than it runs: a
    /// validation, an index or constraint PostgreSQL can only build while blocking writes.
    Own,
    /// Outside any transaction, each statement committing itself: `CREATE INDEX
    /// CONCURRENTLY` cannot run in one, and a new enum value is usable only once committed.
    None,
}

/// How `change` must run.
pub fn transaction(change: &Change) -> Transaction {
    match change {
        Change::AddEnumValue { .. }
        | Change::CreateIndex { busy: Busy::Online, .. }
        | Change::DropIndex { busy: Busy::Online, .. }
        | Change::ReplaceIndex { .. }
        | Change::Backfill { .. } => Transaction::None,
        Change::ValidateConstraint { .. }
        | Change::SetNotNullProven { .. }
        | Change::CreateIndex { busy: Busy::Blocking, .. }
        | Change::AddConstraint { busy: Busy::Blocking, .. } => Transaction::Own,
        _ => Transaction::File,
    }
}

/// Whether `change` takes only locks that block no reads or writes (SHARE UPDATE EXCLUSIVE):
/// a concurrent build waits for every older transaction, which `lock_timeout` would cut short
/// while nothing waits behind it.
pub fn waits_harmlessly(change: &Change) -> bool {
    matches!(
        change,
        Change::CreateIndex { busy: Busy::Online, .. }
            | Change::DropIndex { busy: Busy::Online, .. }
            | Change::ReplaceIndex { .. }
            | Change::ValidateConstraint { .. }
    )
}

/// Whether `change` may read or write a whole table in use, and so runs under the long
/// statement timeout rather than the file's.
pub fn long(change: &Change, hazards: &[super::Hazard]) -> bool {
    use super::HazardCode::*;
    matches!(
        change,
        Change::ValidateConstraint { .. }
            | Change::SetNotNullProven { .. }
            | Change::Backfill { .. }
    ) || hazards.iter().any(|h| {
        matches!(h.code, TableRewrite | TableScan | IndexBuild | AccessExclusiveLock | ShareLock)
    })
}

/// The plan's changes with each step on a table in use in its online form where PostgreSQL
/// has one.
pub fn go_online(mut changes: Vec<Change>, current: &Catalog, desired: &Catalog) -> Vec<Change> {
    // Only dropped tables and views are asked about: a plan that drops everything names
    // every column and constraint too (35 MB at 10,000 tables).
    let dropped: BTreeSet<ObjectId> = (changes.iter())
        .flat_map(|c| touches(c).drops)
        .filter(|id| matches!(id, ObjectId::Table(_) | ObjectId::View(_)))
        .collect();
    // `Some(partitioned)` for a table or materialized view that exists before the plan and
    // is not made anew by it.
    let in_use = |table: &QualifiedName| -> Option<bool> {
        let exists = current.tables.get(table).map(|t| t.partition_by.is_some()).or_else(|| {
            current.objects.contains_key(&ObjectId::View(table.clone())).then_some(false)
        });
        let recreated = dropped.contains(&ObjectId::Table(table.clone()))
            || dropped.contains(&ObjectId::View(table.clone()));
        exists.filter(|_| !recreated)
    };
    let mut added = Vec::new();
    for change in &mut changes {
        match change {
            // PostgreSQL builds and drops no index of a partitioned table concurrently.
            Change::CreateIndex { index, busy } | Change::DropIndex { index, busy } => {
                *busy = match in_use(&index.table) {
                    Some(false) => Busy::Online,
                    Some(true) => Busy::Blocking,
                    None => Busy::No,
                };
            }
            Change::AddConstraint { table, constraint, busy } => {
                let Some(partitioned) = in_use(table) else { continue };
                *busy = constraint_online(table, constraint, partitioned, &mut added);
            }
            Change::AlterColumn { table, to, actions, .. }
                if actions.contains(&ColumnAction::SetNotNull)
                    && !actions.iter().any(|a| matches!(a, ColumnAction::AddIdentity { .. })) =>
            {
                // Checked first without blocking writes, then set without a scan.
                actions.retain(|a| *a != ColumnAction::SetNotNull);
                let rename = actions.iter().find_map(|a| match a {
                    ColumnAction::RenameNotNull { from, to } => Some((from.clone(), to.clone())),
                    _ => None,
                });
                actions.retain(|a| !matches!(a, ColumnAction::RenameNotNull { .. }));
                let check = with_suffix(&to.name, "__not_null");
                let (table, column) = (table.clone(), to.name.clone());
                added.push(Change::ProveNotNull {
                    table: table.clone(),
                    column: column.to_string(),
                    check: check.clone(),
                });
                added.push(Change::SetNotNullProven {
                    table,
                    column: column.to_string(),
                    check,
                    rename,
                });
            }
            _ => {}
        }
    }
    changes.retain(|c| !matches!(c, Change::AlterColumn { actions, .. } if actions.is_empty()));
    changes.extend(added);
    replace_indexes_online(changes, current, desired)
}

/// How a constraint is added to a table in use, with the steps the online form needs.
fn constraint_online(
    table: &QualifiedName,
    constraint: &mut Constraint,
    partitioned: bool,
    added: &mut Vec<Change>,
) -> Busy {
    let not_valid = constraint.definition.ends_with(" NOT VALID");
    match constraint.kind {
        // Wanted NOT VALID: nothing is read.
        ConstraintKind::Check | ConstraintKind::ForeignKey | ConstraintKind::NotNull
            if not_valid =>
        {
            Busy::No
        }
        // PostgreSQL has no NOT VALID foreign key on a partitioned table.
        ConstraintKind::ForeignKey if partitioned => Busy::Blocking,
        ConstraintKind::Check | ConstraintKind::ForeignKey => {
            added.push(Change::ValidateConstraint {
                table: table.clone(),
                name: constraint.name.to_string(),
            });
            Busy::Online
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique if !partitioned => {
            let Some(definition) = constraint.index_definition.clone() else {
                return Busy::Blocking;
            };
            let index = Index {
                name: QualifiedName::new(table.schema.clone(), constraint.name.clone()),
                table: table.clone(),
                definition,
                columns: constraint.columns.clone(),
                comment: None,
                valid: true,
            };
            constraint.depends_on.push(ObjectId::Index(index.name.clone()));
            added.push(Change::CreateIndex {
                index: std::sync::Arc::new(index),
                busy: Busy::Online,
            });
            Busy::Online
        }
        _ => Busy::Blocking,
    }
}

/// An index dropped and built again under its name, on a table in use, becomes one online
/// replacement, unless something else the plan changes stands between the two (a function
/// the index calls, a column it reads): then the drop and the build stay apart.
fn replace_indexes_online(
    changes: Vec<Change>,
    current: &Catalog,
    desired: &Catalog,
) -> Vec<Change> {
    let mut builds: FastMap<&QualifiedName, usize> = FastMap::default();
    for (i, c) in changes.iter().enumerate().rev() {
        if let Change::CreateIndex { index, busy: Busy::Online } = c {
            builds.insert(&index.name, i);
        }
    }
    let mut pairs: Vec<(usize, usize, &QualifiedName)> = Vec::new();
    let mut seen: FastSet<&QualifiedName> = FastSet::default();
    for (drop, c) in changes.iter().enumerate() {
        let Change::DropIndex { index, busy: Busy::Online } = c else { continue };
        let name = &index.name;
        if let Some(&create) = builds.get(name).filter(|_| seen.insert(name)) {
            pairs.push((drop, create, name));
        }
    }
    if pairs.is_empty() {
        return changes;
    }
    // What each pair uses, then who touches those objects, found once: looked up per index, a
    // plan that rebuilds hundreds of indexes spent seconds here. Only the objects the pairs
    // use are kept: every change's touches, held at once, were 80 MB of a 10,000-table plan.
    let used: Vec<BTreeSet<ObjectId>> = (pairs.iter())
        .map(|&(drop, create, name)| {
            let (d, c) = (touches(&changes[drop]), touches(&changes[create]));
            let id = ObjectId::Index(name.clone());
            (d.releases.into_iter().chain(c.requires))
                .chain(current.depends.of(&id).into_iter().cloned())
                .chain(desired.depends.of(&id).into_iter().cloned())
                .collect()
        })
        .collect();
    let mut touchers: BTreeMap<&ObjectId, Vec<usize>> =
        used.iter().flatten().map(|o| (o, Vec::new())).collect();
    for (i, change) in changes.iter().enumerate() {
        let t = touches(change);
        for o in t.creates.iter().chain(&t.drops).chain(&t.alters) {
            if let Some(by) = touchers.get_mut(o) {
                by.push(i);
            }
        }
    }
    let replaced: Vec<(usize, usize)> = (pairs.iter().zip(&used))
        .filter(|&(&(drop, create, _), used)| {
            !used.iter().any(|o| touchers[o].iter().any(|&i| i != drop && i != create))
        })
        .map(|(&(drop, create, _), _)| (drop, create))
        .collect();
    drop(touchers);
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    for (drop, create) in replaced {
        let Some(Change::DropIndex { index: from, .. }) = slots[drop].take() else { continue };
        let Some(Change::CreateIndex { index: to, .. }) = slots[create].take() else { continue };
        slots[create] = Some(Change::ReplaceIndex { from, to });
    }
    slots.into_iter().flatten().collect()
}
