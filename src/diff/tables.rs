//! Tables, their columns, constraints and comments.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Change, ColumnAction, CommentTarget, pair};
use crate::catalog::{
    Catalog, Column, Constraint, ConstraintKind, FastMap, Name, Object, ObjectId, QualifiedName,
    Sequence, Table, TableProperties, default_not_null_name,
};

/// A catalog with each table's children (`INHERITS`, `PARTITION OF`), the sequences it
/// owns and the objects on it gathered once: looked up per changed column or dropped table, a
/// scan of every table, sequence or object made the diff quadratic (10,000 tables: 20 times
/// the time of 1,000).
struct Related<'c> {
    catalog: &'c Catalog,
    children: FastMap<&'c QualifiedName, Vec<&'c Table>>,
    sequences: FastMap<&'c QualifiedName, Vec<&'c Sequence>>,
    objects: FastMap<&'c QualifiedName, Vec<&'c Arc<Object>>>,
}

impl<'c> Related<'c> {
    fn of(catalog: &'c Catalog) -> Related<'c> {
        let mut children: FastMap<_, Vec<_>> = FastMap::default();
        for t in catalog.tables.values() {
            let parents = t.inherits.iter().chain(t.partition_of.as_ref().map(|p| &p.parent));
            for parent in parents {
                children.entry(parent).or_default().push(&**t);
            }
        }
        let mut sequences: FastMap<_, Vec<_>> = FastMap::default();
        for s in catalog.sequences.values() {
            if let Some((table, _)) = &s.owned_by {
                sequences.entry(table).or_default().push(s);
            }
        }
        let mut objects: FastMap<_, Vec<_>> = FastMap::default();
        for o in catalog.objects.values() {
            if let Some(relation) = o.relation() {
                objects.entry(relation).or_default().push(o);
            }
        }
        Related { catalog, children, sequences, objects }
    }
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (current, desired) = (&Related::of(current), &Related::of(desired));
    let (removed, kept, added) = pair(&current.catalog.tables, &desired.catalog.tables);
    let in_cycle = in_cycles(current, &removed);
    for &t in &removed {
        // A foreign key to another dropped table that points back at it, directly or through
        // others, goes first: such tables could not be dropped one after the other. Other
        // keys go with their table, which is dropped before the one it points at.
        let cycle = in_cycle.get(&t.name);
        let first: Vec<&Name> = (t.constraints.values())
            .filter(|c| {
                (references(current, &t.name, c))
                    .is_some_and(|target| cycle.is_some() && in_cycle.get(target) == cycle)
            })
            .map(|c| &c.name)
            .collect();
        let mut table = Arc::clone(t);
        if !first.is_empty() {
            for name in &first {
                out.push(Change::DropConstraint {
                    table: t.name.clone(),
                    constraint: Box::new(t.constraints[*name].clone()),
                });
            }
            Arc::make_mut(&mut Arc::make_mut(&mut table).constraints)
                .retain(|name, _| !first.contains(&name));
        }
        let owned_sequences = owned_sequences(current, desired, &t.name, None);
        let owned_objects = (current.objects.get(&t.name).into_iter().flatten())
            .filter(|o| goes_with_table(o, current.catalog, desired.catalog))
            .map(|&o| Arc::clone(o))
            .collect();
        out.push(Change::DropTable { table, owned_sequences, owned_objects });
    }
    for t in added {
        create_table(t, out);
    }
    for (a, b) in kept {
        // One table that both catalogs hold (read side by side) has nothing to change: every
        // change below follows from a difference between the two tables themselves.
        if std::sync::Arc::ptr_eq(a, b) {
            continue;
        }
        if a.partition_by != b.partition_by {
            // A table cannot become partitioned, or stop being, in place.
            // Its triggers, policies and rules are kept: made again on the new table.
            let owned_sequences = owned_sequences(current, desired, &a.name, None);
            let table = Arc::clone(a);
            out.push(Change::DropTable { table, owned_sequences, owned_objects: Vec::new() });
            create_table(b, out);
            continue;
        }
        alter_table(current, desired, a, b, out);
    }
}

/// Whether `o` (a trigger, policy or rule) goes with its table, without a statement of its
/// own: the table is dropped and the object not kept, and what it needs is its own table or
/// objects that need no table. A rule that writes into another dropped table, or a trigger
/// whose function reads one (its own included), is dropped on its own first, as the drops
/// could not be ordered otherwise.
pub(super) fn goes_with_table(o: &Object, current: &Catalog, desired: &Catalog) -> bool {
    let Some(table) = o.relation() else {
        return false;
    };
    if !current.tables.contains_key(table)
        || desired.tables.contains_key(table)
        || desired.objects.contains_key(&o.id())
    {
        return false;
    }
    let needs = |id: &ObjectId| {
        let mut all = current.depends.of(id);
        all.extend(current.soft_depends.of(id));
        all
    };
    let own = |d: &ObjectId| match d {
        ObjectId::Table(n)
        | ObjectId::Column(n, _)
        | ObjectId::Constraint(n, _)
        | ObjectId::Default(n, _) => n == table,
        _ => false,
    };
    let in_relation = |d: &ObjectId| match d {
        ObjectId::Table(_)
        | ObjectId::Column(..)
        | ObjectId::Constraint(..)
        | ObjectId::Default(..)
        | ObjectId::Trigger(..)
        | ObjectId::Policy(..)
        | ObjectId::Rule(..)
        | ObjectId::Index(_)
        | ObjectId::View(_)
        | ObjectId::Sequence(_)
        | ObjectId::ForeignTable(_) => true,
        // A table's row type.
        ObjectId::Type(n) => current.tables.contains_key(n),
        _ => false,
    };
    (needs(&o.id()).into_iter())
        .all(|d| own(d) || !in_relation(d) && needs(d).into_iter().all(|e| !in_relation(e)))
}

/// The other table a constraint of `table` points at: its foreign key's table.
fn references<'c>(
    catalog: &'c Related,
    table: &'c QualifiedName,
    constraint: &'c Constraint,
) -> Option<&'c QualifiedName> {
    catalog.catalog.referenced_table(constraint).filter(|target| *target != table)
}

/// The `tables` (all dropped, or all made, in `catalog`) that reach themselves again through
/// foreign keys among them, each with the number of its cycle (a strongly connected component
/// of the graph of keys, petgraph's Tarjan).
fn in_cycles<'c>(
    catalog: &'c Related,
    tables: &[&'c Arc<Table>],
) -> FastMap<&'c QualifiedName, usize> {
    let mut graph = petgraph::graph::DiGraph::<&QualifiedName, ()>::new();
    let nodes: FastMap<&QualifiedName, _> =
        tables.iter().map(|t| (&t.name, graph.add_node(&t.name))).collect();
    for t in tables {
        for c in t.constraints.values() {
            if let Some(&to) = references(catalog, &t.name, c).and_then(|r| nodes.get(r)) {
                graph.add_edge(nodes[&t.name], to, ());
            }
        }
    }
    let mut out = FastMap::default();
    for (cycle, component) in petgraph::algo::tarjan_scc(&graph).into_iter().enumerate() {
        if component.len() > 1 {
            out.extend(component.into_iter().map(|n| (graph[n], cycle)));
        }
    }
    out
}

/// Keys on the same columns as the primary key or an earlier key: CREATE TABLE would keep
/// only the first of them, so the others are added afterwards.
fn redundant_keys(t: &Table) -> Vec<Name> {
    let mut keys: Vec<&crate::catalog::Constraint> = t
        .constraints
        .values()
        .filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique))
        .collect();
    keys.sort_by_key(|c| (c.kind != ConstraintKind::PrimaryKey, c.name.clone()));
    let mut seen: Vec<&Vec<Name>> = Vec::new();
    let mut out = Vec::new();
    for k in keys {
        if seen.contains(&&k.columns) {
            out.push(k.name.clone());
        } else {
            seen.push(&k.columns);
        }
    }
    out
}

/// Tables whose copy of `column` comes only from `table` and goes when it is dropped there.
fn inheriting(catalog: &Related, table: &QualifiedName, column: &str) -> Vec<QualifiedName> {
    (catalog.children.get(table).into_iter().flatten())
        .filter(|t| t.column(column).is_some_and(|c| c.inherited))
        .map(|t| t.name.clone())
        .collect()
}

/// Sequences owned by the table (or by one column of it) in `catalog` that go with it: not
/// those another column keeps using (see `sequences::diff`).
fn owned_sequences(
    catalog: &Related,
    desired: &Related,
    table: &QualifiedName,
    column: Option<&str>,
) -> Vec<QualifiedName> {
    (catalog.sequences.get(table).into_iter().flatten())
        .filter(|s| {
            s.owned_by.as_ref().is_some_and(|(_, c)| column.is_none_or(|col| col == c))
                && (desired.catalog.sequences.get(&s.name)).is_none_or(|d| d.owned_by == s.owned_by)
        })
        .map(|s| s.name.clone())
        .collect()
}

/// `CREATE TABLE` carries columns and the constraints that need nothing outside the table;
/// foreign keys are added after every table exists.
fn create_table(t: &Arc<Table>, out: &mut Vec<Change>) {
    // CREATE TABLE would validate a NOT VALID constraint, and keep only the first of several
    // keys on the same columns: those are added after it, as foreign keys are.
    let mut redundant = redundant_keys(t);
    redundant.extend(
        t.constraints
            .values()
            .filter(|c| {
                c.kind != ConstraintKind::ForeignKey && c.definition.ends_with(" NOT VALID")
            })
            .map(|c| c.name.clone()),
    );
    let later = (t.constraints.values())
        .filter(|c| c.kind == ConstraintKind::ForeignKey || redundant.contains(&c.name))
        .map(|c| c.name.clone())
        .collect();
    out.push(Change::CreateTable { table: Arc::clone(t), later });
    for name in &redundant {
        let constraint = t.constraints[name].clone();
        out.push(Change::add_constraint(&t.name, &constraint));
    }
    // CREATE TABLE says persistence and storage parameters; the replica identity may need an
    // index that comes later.
    let defaults = TableProperties { replica_identity: Default::default(), ..t.properties() };
    if t.properties() != defaults {
        out.push(Change::SetTableProperties {
            table: t.name.clone(),
            from: defaults,
            to: t.properties(),
        });
    }
    for c in t.columns.iter() {
        let mut plain = c.clone();
        (plain.storage, plain.compression, plain.statistics) = (None, None, None);
        let actions = storage_actions(&plain, c);
        if !actions.is_empty() {
            out.push(Change::AlterColumn {
                table: t.name.clone(),
                from: Box::new(plain),
                to: Box::new(c.clone()),
                actions,
            });
        }
    }
    if t.row_security || t.force_row_security {
        out.push(Change::SetRowSecurity {
            table: t.name.clone(),
            enabled: t.row_security,
            forced: t.force_row_security,
        });
    }
    for c in t.constraints.values().filter(|c| c.kind == ConstraintKind::ForeignKey) {
        out.push(Change::add_constraint(&t.name, c));
    }
    if t.comment.is_some() {
        out.push(Change::Comment {
            target: CommentTarget::Table(t.name.clone()),
            comment: t.comment.clone(),
        });
    }
    for c in t.columns.iter().filter(|c| c.comment.is_some()) {
        let target = CommentTarget::Column(t.name.clone(), c.name.to_string());
        out.push(Change::Comment { target, comment: c.comment.clone() });
    }
    for c in t.constraints.values().filter(|c| c.comment.is_some()) {
        let target = CommentTarget::Constraint(t.name.clone(), c.name.to_string());
        out.push(Change::Comment { target, comment: c.comment.clone() });
    }
}

fn alter_table(current: &Related, desired: &Related, a: &Table, b: &Table, out: &mut Vec<Change>) {
    let name = &b.name;
    // Detaching from a parent makes its columns the table's own.
    let parents_kept = a.partition_of.as_ref().map(|p| &p.parent)
        == b.partition_of.as_ref().map(|p| &p.parent)
        && b.inherits.iter().all(|p| a.inherits.contains(p))
        && a.inherits.iter().all(|p| b.inherits.contains(p));
    if a.partition_of != b.partition_of {
        if let Some(p) = &a.partition_of {
            out.push(Change::DetachPartition { table: name.clone(), parent: p.parent.clone() });
        }
        if let Some(p) = &b.partition_of {
            out.push(Change::AttachPartition { table: name.clone(), partition: p.clone() });
        }
    }
    // Columns that every old parent lets go keep their NOT NULL names (PostgreSQL 18), and
    // can be renamed only once let go: between NO INHERIT and INHERIT.
    let released = a.partition_of.is_none()
        && !a.inherits.is_empty()
        && a.inherits.iter().all(|p| !b.inherits.contains(p));
    let not_null_renames: Vec<(String, String)> = (b.columns.iter())
        .filter(|c| released && c.not_null)
        .filter_map(|c| {
            // Declared here too, its constraint is still the parent's (merged).
            let from_parent = |old: &Column| {
                (a.inherits.iter())
                    .filter_map(|p| current.catalog.tables.get(p)?.column(&old.name))
                    .any(|p| p.not_null)
            };
            let old = (a.column(&c.name))
                .filter(|old| old.not_null && (old.inherited || from_parent(old)))?;
            let (from, to) = (old.not_null_name.clone()?, c.not_null_name.clone()?);
            (from != to).then_some((from, to))
        })
        .collect();
    let renamed_on_release = |old: &Column| {
        not_null_renames.iter().any(|(from, _)| old.not_null_name.as_ref() == Some(from))
    };
    if a.inherits != b.inherits {
        out.push(Change::SetInherits {
            table: name.clone(),
            from: a.inherits.clone(),
            to: b.inherits.clone(),
            not_null_renames: not_null_renames.clone(),
        });
    }
    // PostgreSQL 18: a NOT VALID NOT NULL that is to hold for every row under the same name is
    // validated (reading the table under a lock that lets writes go on), not dropped and set.
    let validated: BTreeMap<&Name, &Name> = (a.constraints.values())
        .filter(|c| c.kind == ConstraintKind::NotNull && !b.constraints.contains_key(&c.name))
        .filter_map(|c| {
            let column = b.column(c.columns.first()?)?;
            let same = column.not_null && column.not_null_name.as_deref() == Some(c.name.as_str());
            (same && !column.inherited && a.column(&column.name).is_some())
                .then_some((&column.name, &c.name))
        })
        .collect();
    for col in a.columns.iter() {
        // A parent's column is dropped there, and goes from here with it. A column of our own
        // that is to come from the parent only is dropped here first, or the parent's would
        // merge into it and stay our own.
        let becomes_inherited = b.column(&col.name).is_some_and(|c| c.inherited) && parents_kept;
        if (b.column(&col.name).is_none() || becomes_inherited) && !col.inherited {
            let owned_sequences = owned_sequences(current, desired, name, Some(&col.name));
            out.push(Change::DropColumn {
                table: name.clone(),
                column: Box::new(col.clone()),
                kept_in: None,
                owned_sequences,
                inherited_by: inheriting(current, name, &col.name),
            });
        }
    }
    for col in b.columns.iter() {
        if col.inherited {
            // The parent adds and changes it. A table that attaches (or a partition that
            // moves) keeps its NOT NULL names (PostgreSQL 18), and takes the parent's before
            // it attaches; under the parents it had, its own copy was dropped above. A child
            // that changes parents is renamed by SetInherits.
            let own = (a.column(&col.name))
                .filter(|old| old.not_null && !parents_kept)
                .filter(|old| !old.inherited || a.partition_of.is_some())
                .filter(|old| !renamed_on_release(old));
            if let (Some(old), Some(to)) = (own, &col.not_null_name)
                && let Some(from) = old.not_null_name.clone().filter(|from| from != to)
                && col.not_null
            {
                out.push(Change::AlterColumn {
                    table: name.clone(),
                    from: Box::new(old.clone()),
                    to: Box::new(col.clone()),
                    actions: vec![ColumnAction::RenameNotNull { from, to: to.clone() }],
                });
            }
            continue;
        }
        let old = a.column(&col.name).filter(|old| !old.inherited || !parents_kept);
        // Borrowed unless it differs from the column as read: every column of every table
        // that both states have passes here.
        let old = match old {
            Some(old) if old.inherited => {
                // Detached: the column is the table's own now, as it was.
                let mut own = old.clone();
                own.inherited = false;
                Some(Cow::Owned(own))
            }
            Some(old) if validated.contains_key(&col.name) => {
                // NOT NULL once its constraint is validated (below).
                let mut checked = old.clone();
                (checked.not_null, checked.not_null_name) = (true, col.not_null_name.clone());
                Some(Cow::Owned(checked))
            }
            other => other.map(Cow::Borrowed),
        };
        // Its NOT NULL renamed as the old parents let it go (above).
        let old = old.map(|old| match renamed_on_release(&old) {
            true => {
                Cow::Owned(Column { not_null_name: col.not_null_name.clone(), ..old.into_owned() })
            }
            false => old,
        });
        let Some(old) = old.as_deref() else {
            out.push(Change::AddColumn {
                table: name.clone(),
                column: Box::new(col.clone()),
                table_is_new: false,
                inherited_by: inheriting(desired, name, &col.name),
            });
            if col.comment.is_some() {
                let target = CommentTarget::Column(name.clone(), col.name.to_string());
                out.push(Change::Comment { target, comment: col.comment.clone() });
            }
            continue;
        };
        if old.generated.is_none() && col.generated.is_some()
            || old.generated.is_some()
                && col.generated.is_some()
                && (old.generated != col.generated
                    || old.generated_virtual != col.generated_virtual)
        {
            // PostgreSQL 15 cannot change or add a generation expression in place, and no
            // version turns a stored column virtual or back.
            let owned_sequences = owned_sequences(current, desired, name, Some(&col.name));
            out.push(Change::DropColumn {
                table: name.clone(),
                column: Box::new(old.clone()),
                kept_in: None,
                owned_sequences,
                inherited_by: inheriting(current, name, &col.name),
            });
            out.push(Change::AddColumn {
                table: name.clone(),
                column: Box::new(col.clone()),
                table_is_new: false,
                inherited_by: inheriting(desired, name, &col.name),
            });
            if col.comment.is_some() && old.comment == col.comment {
                let target = CommentTarget::Column(name.clone(), col.name.to_string());
                out.push(Change::Comment { target, comment: col.comment.clone() });
            }
        } else {
            // Two steps: letting go of the old (default, identity, type), then taking on the
            // new, so that what is dropped or created in between (a sequence that serial used,
            // an identity's sequence of the same name) fits.
            let (takes_on, lets_go): (Vec<_>, Vec<_>) =
                column_actions(name, old, col).into_iter().partition(ColumnAction::takes_on);
            for actions in [lets_go, takes_on] {
                if !actions.is_empty() {
                    out.push(Change::AlterColumn {
                        table: name.clone(),
                        from: Box::new(old.clone()),
                        to: Box::new(col.clone()),
                        actions,
                    });
                }
            }
        }
        if old.comment != col.comment {
            let target = CommentTarget::Column(name.clone(), col.name.to_string());
            out.push(Change::Comment { target, comment: col.comment.clone() });
        }
    }

    let (removed, kept, added) = pair(&*a.constraints, &*b.constraints);
    for c in removed {
        if validated.values().any(|v| **v == c.name) {
            out.push(Change::ValidateConstraint { table: name.clone(), name: c.name.to_string() });
        } else {
            out.push(Change::DropConstraint {
                table: name.clone(),
                constraint: Box::new(c.clone()),
            });
        }
    }
    let comment_on = |c: &crate::catalog::Constraint| Change::Comment {
        target: CommentTarget::Constraint(name.clone(), c.name.to_string()),
        comment: c.comment.clone(),
    };
    for (x, y) in kept {
        if x.definition != y.definition || x.kind != y.kind {
            out.push(Change::DropConstraint {
                table: name.clone(),
                constraint: Box::new(x.clone()),
            });
            out.push(Change::add_constraint(name, y));
            if y.comment.is_some() {
                out.push(comment_on(y));
            }
        } else if x.comment != y.comment {
            out.push(comment_on(y));
        }
    }
    for c in added {
        out.push(Change::add_constraint(name, c));
        if c.comment.is_some() {
            out.push(comment_on(c));
        }
    }

    if a.properties() != b.properties() {
        out.push(Change::SetTableProperties {
            table: name.clone(),
            from: a.properties(),
            to: b.properties(),
        });
    }
    if (a.row_security, a.force_row_security) != (b.row_security, b.force_row_security) {
        out.push(Change::SetRowSecurity {
            table: name.clone(),
            enabled: b.row_security,
            forced: b.force_row_security,
        });
    }
    if a.comment != b.comment {
        out.push(Change::Comment {
            target: CommentTarget::Table(name.clone()),
            comment: b.comment.clone(),
        });
    }
}

/// The in-place alterations from `a` to `b`, in the order they must run.
pub(crate) fn column_actions(table: &QualifiedName, a: &Column, b: &Column) -> Vec<ColumnAction> {
    let mut actions = Vec::new();
    let type_changes = a.type_sql != b.type_sql || a.collation != b.collation;
    if a.default.is_some() && (a.default != b.default || type_changes) {
        actions.push(ColumnAction::DropDefault);
    }
    match (&a.identity, &b.identity) {
        (Some(_), None) => actions.push(ColumnAction::DropIdentity),
        (None, Some(i)) => actions.push(ColumnAction::AddIdentity {
            always: i.always,
            options: i.options.clone(),
            sequence: i.sequence_name.clone(),
        }),
        (Some(x), Some(y)) => {
            if x.always != y.always {
                actions.push(ColumnAction::SetIdentityKind { always: y.always });
            }
            // The sequence's type follows the column's; only the options are the identity's own.
            let mut options = x.options.clone();
            options.data_type = y.options.data_type.clone();
            if options != y.options {
                actions.push(ColumnAction::SetIdentityOptions(y.options.clone()));
            }
        }
        (None, None) => {}
    }
    if a.generated.is_some() && b.generated.is_none() {
        actions.push(ColumnAction::DropExpression);
    }
    if type_changes {
        actions.push(ColumnAction::SetType {
            type_sql: b.type_sql.to_string(),
            collation: b.collation.clone(),
            rewrites: a.type_sql != b.type_sql && rewrites(&a.type_sql, &b.type_sql),
            keeps: a.type_sql == b.type_sql || keeps_values(&a.type_sql, &b.type_sql),
            cast: cast_between(a, b),
        });
    }
    if let Some(d) = &b.default
        && (a.default != b.default || type_changes)
    {
        let continues = b.depends_on.iter().find_map(|dep| match dep {
            ObjectId::Sequence(s) if !a.depends_on.contains(dep) => Some(s.clone()),
            _ => None,
        });
        actions.push(ColumnAction::SetDefault { default: d.clone(), continues });
    }
    if a.not_null && !b.not_null {
        actions.push(ColumnAction::DropNotNull);
    }
    actions.extend(storage_actions(a, b));
    if !a.not_null && b.not_null {
        actions.push(ColumnAction::SetNotNull);
    }
    // PostgreSQL 18 names NOT NULL: a column renamed, or a table, keeps the old name.
    if let (true, Some(to)) = (b.not_null, &b.not_null_name) {
        let from = match &a.not_null_name {
            Some(kept) if a.not_null => kept.clone(),
            _ => default_not_null_name(&table.name, &b.name),
        };
        if from != *to {
            actions.push(ColumnAction::RenameNotNull { from, to: to.clone() });
        }
    }
    actions.sort();
    actions
}

/// Storage, compression and statistics target: properties no other change depends on.
fn storage_actions(a: &Column, b: &Column) -> Vec<ColumnAction> {
    let mut actions = Vec::new();
    if a.storage != b.storage {
        let letter = b.storage.unwrap_or(b.type_storage);
        actions.push(ColumnAction::SetStorage(letter));
    }
    if a.compression != b.compression {
        actions.push(ColumnAction::SetCompression(b.compression));
    }
    if a.statistics != b.statistics {
        actions.push(ColumnAction::SetStatistics(b.statistics));
    }
    actions
}

fn uses_enum(c: &Column) -> bool {
    c.depends_on.iter().any(|d| matches!(d, crate::catalog::ObjectId::Type(_)))
}

/// The cast that carries `a`'s values to `b`'s type. Conversions to strings, and between
/// numbers, dates and the like, have assignment casts; conversions from strings do not.
fn cast_between(a: &Column, b: &Column) -> super::Cast {
    use super::Cast;
    let base = |t: &str| split_modifiers(t.trim_end_matches("[]")).0.to_string();
    let (from, to) = (base(&a.type_sql), base(&b.type_sql));
    let string =
        |t: &str| matches!(t, "text" | "character varying" | "character" | "name" | "\"char\"");
    // No cast leads between an enum and anything but a string; text reaches each label (a
    // value that names none fails loudly instead of being guessed).
    if (uses_enum(a) || uses_enum(b)) && !string(&from) && !string(&to) {
        Cast::ViaText
    } else if string(&to) || from == to {
        Cast::Assignment
    } else if string(&from) || from == "boolean" || to == "boolean" || uses_enum(b) {
        Cast::Explicit
    } else {
        Cast::Assignment
    }
}

/// Whether changing a column from type `from` to `to` makes PostgreSQL rewrite the table.
/// Only binary-coercible changes that loosen a limit are known to be free.
pub(crate) fn rewrites(from: &str, to: &str) -> bool {
    let (from_base, from_mods) = split_modifiers(from);
    let (to_base, to_mods) = split_modifiers(to);
    let varlena = |t: &str| matches!(t, "character varying" | "text");
    let to_base = to_base.rsplit_once('.').map_or(to_base, |(_, t)| t);
    match (from_base, to_base) {
        // citext's casts from text and varchar are binary: WITHOUT FUNCTION.
        (f, "citext") if varlena(f) => false,
        // varchar(n) -> varchar(m >= n) / varchar / text; varchar -> text; text -> varchar
        (f, t) if varlena(f) && varlena(t) => match (from_mods, to_mods) {
            (_, None) => false,
            (Some(f), Some(t)) => t.first() < f.first(),
            (None, Some(_)) => true,
        },
        ("numeric", "numeric") => match (from_mods, to_mods) {
            (_, None) => false,
            (Some(f), Some(t)) => !(t.get(1) == f.get(1) && t.first() >= f.first()),
            (None, Some(_)) => true,
        },
        ("bit varying", "bit varying") => match (from_mods, to_mods) {
            (_, None) => false,
            (Some(f), Some(t)) => t.first() < f.first(),
            (None, Some(_)) => true,
        },
        ("timestamp without time zone", "timestamp without time zone")
        | ("timestamp with time zone", "timestamp with time zone")
        | ("time without time zone", "time without time zone")
        | ("interval", "interval") => false,
        _ => true,
    }
}

/// Whether no value of type `from` can silently change in the cast to `to`: a wider type of
/// the same family, text, or a narrower string (the assignment cast fails on a value that does
/// not fit instead of cutting it). Anything else may round or cut values, and its `down`
/// cannot bring them back.
pub(crate) fn keeps_values(from: &str, to: &str) -> bool {
    let (from_base, from_mods) = split_modifiers(from);
    let (to_base, to_mods) = split_modifiers(to);
    // An extension's type (citext) is named with its schema.
    let from_base = from_base.rsplit_once('.').map_or(from_base, |(_, t)| t);
    let to_base = to_base.rsplit_once('.').map_or(to_base, |(_, t)| t);
    let first = |m: &Option<Vec<i64>>| m.as_ref().and_then(|m| m.first().copied());
    let strings = ["character varying", "character", "text", "citext"];
    let rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    match (from_base, to_base) {
        // Any value has a text form.
        (_, "text" | "citext") => true,
        // Padding to char(n) is the one change a string cast makes silently.
        (f, t) if strings.contains(&f) && strings.contains(&t) => t != "character" || f == t,
        (f, t) if rank(f).is_some() && rank(t).is_some() => rank(t) >= rank(f),
        ("smallint" | "integer" | "bigint", "numeric") => match to_mods {
            None => true,
            Some(m) => {
                let digits = match from_base {
                    "smallint" => 5,
                    "integer" => 10,
                    _ => 19,
                };
                m.get(1).copied().unwrap_or(0) == 0 && m.first().copied().unwrap_or(0) >= digits
            }
        },
        ("smallint" | "integer", "double precision") | ("smallint", "real") => true,
        ("real", "double precision") => true,
        ("numeric", "numeric") => match (&from_mods, &to_mods) {
            (_, None) => true,
            (Some(f), Some(t)) => {
                let (fp, fs) = (f.first().copied().unwrap_or(0), f.get(1).copied().unwrap_or(0));
                let (tp, ts) = (t.first().copied().unwrap_or(0), t.get(1).copied().unwrap_or(0));
                ts >= fs && tp - ts >= fp - fs
            }
            (None, Some(_)) => false,
        },
        ("date", "timestamp without time zone" | "timestamp with time zone") => true,
        (f, t) if f == t => match (first(&from_mods), first(&to_mods)) {
            (_, None) => true,
            (Some(f), Some(t)) => t >= f,
            (None, Some(_)) => false,
        },
        ("json", "jsonb") => false,
        ("jsonb", "json") => true,
        _ => false,
    }
}

/// `character varying(50)` -> ("character varying", Some([50])).
fn split_modifiers(t: &str) -> (&str, Option<Vec<i64>>) {
    if t.ends_with("[]") {
        return (t, None);
    }
    match t.find('(') {
        Some(i) if t.ends_with(')') => {
            let mods =
                t[i + 1..t.len() - 1].split(',').filter_map(|m| m.trim().parse().ok()).collect();
            (t[..i].trim_end(), Some(mods))
        }
        _ => (t, None),
    }
}

#[cfg(test)]
mod tests {
    use super::{keeps_values, rewrites};

    #[test]
    fn text_to_citext_keeps_values_and_needs_no_rewrite() {
        assert!(keeps_values("text", "public.citext"));
        assert!(keeps_values("character varying(20)", "public.citext"));
        assert!(!rewrites("text", "public.citext"));
        assert!(!rewrites("character varying(20)", "ext.citext"));
    }

    #[test]
    fn widening_varchar_is_not_a_rewrite() {
        assert!(!rewrites("character varying(50)", "character varying(200)"));
        assert!(!rewrites("character varying(50)", "text"));
        assert!(!rewrites("text", "character varying"));
        assert!(!rewrites("numeric(10,2)", "numeric(12,2)"));
    }

    #[test]
    fn narrowing_or_changing_type_is_a_rewrite() {
        assert!(rewrites("character varying(200)", "character varying(50)"));
        assert!(rewrites("integer", "bigint"));
        assert!(rewrites("text", "integer"));
        assert!(rewrites("numeric(10,2)", "numeric(12,3)"));
    }
}
