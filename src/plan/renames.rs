//! Declared renames (`-- schemadiff:renamed-from old_name` in `schema/`), resolved against the
//! two catalogs.
//!
//! Most renames are a plain `ALTER ... RENAME` that runs first; the rest of the plan is then
//! planned from the renamed state, which PostgreSQL itself produces in the shadow (what a
//! rename carries along, it carries). A column that running code may still use is renamed in
//! two migrations instead: the **expand** adds the new column next to the old one, keeps the
//! two in step with a trigger and copies the values over; the **contract** drops the trigger
//! and the old column once no code uses it. A renamed table keeps a view under its old name
//! until the contract.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, Column, ConstraintKind, Name, Object, ObjectId, QualifiedName};
use crate::diff::{Change, ColumnAction};
use crate::source::{RenameDecl, Renamed};

/// A renamed column during its expand phase: `old` and `new` hold the same values, kept in
/// step by a trigger, so either may go without losing data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnCopy {
    pub table: QualifiedName,
    pub old: String,
    pub new: String,
}

impl ColumnCopy {
    /// The name of the trigger, and of its function in the table's schema.
    pub fn trigger(&self) -> String {
        crate::catalog::with_suffix(
            &format!("{}__sync_{}_{}", self.table.name, self.old, self.new),
            "",
        )
    }

    pub fn function(&self) -> QualifiedName {
        QualifiedName::new(self.table.schema.clone(), self.trigger())
    }

    /// The other copy of `column`, when it is one of the two.
    fn partner(&self, table: &QualifiedName, column: &str) -> Option<&str> {
        if *table != self.table {
            return None;
        }
        if column == self.old {
            Some(&self.new)
        } else if column == self.new {
            Some(&self.old)
        } else {
            None
        }
    }
}

/// What the declared renames come to.
#[derive(Debug, Clone, Default)]
pub struct Renames {
    /// `Change::Rename`s, in the order they run: relations and types first, then what is
    /// renamed through its table.
    pub plain: Vec<Change>,
    /// Columns renamed by expand and contract.
    pub copies: Vec<ColumnCopy>,
    /// Renamed tables that keep a view under their old name until the contract:
    /// (table under its new name, old name).
    pub aliases: Vec<(QualifiedName, String)>,
}

impl Renames {
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.copies.is_empty() && self.aliases.is_empty()
    }

    /// Whether the renames need an expand and a contract migration.
    pub fn expands(&self) -> bool {
        !self.copies.is_empty() || !self.aliases.is_empty()
    }

    /// The plain renames undone, in reverse order.
    pub fn reversed(&self) -> Vec<Change> {
        (self.plain.iter().rev())
            .filter_map(|c| match c {
                Change::Rename { from, to, keyword } => Some(Change::Rename {
                    from: from.renamed(to),
                    to: from.name().to_string(),
                    keyword: keyword.clone(),
                }),
                Change::RenameEnumValue { name, from, to } => Some(Change::RenameEnumValue {
                    name: name.clone(),
                    from: to.clone(),
                    to: from.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// A file-name description of the expand/contract pair, such as
    /// `rename_username_to_user_name_in_users`.
    pub fn describe(&self) -> String {
        let mut phrases: Vec<String> = (self.copies.iter())
            .map(|c| format!("rename_{}_to_{}_in_{}", c.old, c.new, c.table.name))
            .collect();
        phrases.extend(self.aliases.iter().map(|(t, old)| format!("rename_{old}_to_{}", t.name)));
        phrases.join("_and_")
    }
}

/// The renames `decls` declare that the catalogs bear out: the old name in `current` only, the
/// new one in `desired` only. One already done (the new name is in `current`) is silent; one
/// whose old name is nowhere is ignored with a note.
pub fn resolve(
    decls: &[RenameDecl],
    current: &Catalog,
    desired: &Catalog,
    notes: &mut Vec<String>,
) -> Renames {
    let mut out = Renames::default();
    let mut stale_notes = Vec::new();
    let mut stale = |d: &RenameDecl, what: String| {
        stale_notes.push(format!(
            "{}: `renamed-from {}`: the database has no {what}; the annotation is ignored",
            d.location, d.from
        ));
    };
    // New table name -> old one, for the columns and constraints declared on it.
    let mut tables: BTreeMap<QualifiedName, QualifiedName> = BTreeMap::new();
    let mut through_table = Vec::new();
    for d in decls {
        let renamed = |n: &QualifiedName| QualifiedName::new(n.schema.clone(), d.from.clone());
        let (old, new, keyword, here) = match &d.target {
            Renamed::Table(new) => {
                let old = renamed(new);
                (
                    ObjectId::Table(old),
                    ObjectId::Table(new.clone()),
                    "TABLE",
                    current.tables.contains_key(new),
                )
            }
            Renamed::Index(new) => {
                let old = renamed(new);
                (
                    ObjectId::Index(old),
                    ObjectId::Index(new.clone()),
                    "INDEX",
                    current.indexes.contains_key(new),
                )
            }
            Renamed::Sequence(new) => {
                let old = renamed(new);
                let here = current.sequences.contains_key(new);
                (ObjectId::Sequence(old), ObjectId::Sequence(new.clone()), "SEQUENCE", here)
            }
            Renamed::View(new) => {
                let old = renamed(new);
                let keyword = match current.objects.get(&ObjectId::View(old.clone())).map(|o| &**o)
                {
                    Some(Object::View(v)) if v.materialized => "MATERIALIZED VIEW",
                    _ => "VIEW",
                };
                let here = current.objects.contains_key(&ObjectId::View(new.clone()));
                (ObjectId::View(old), ObjectId::View(new.clone()), keyword, here)
            }
            Renamed::Type(new) => {
                let old = renamed(new);
                let keyword = match current.objects.get(&ObjectId::Type(old.clone())).map(|o| &**o)
                {
                    Some(Object::Domain(_)) => "DOMAIN",
                    _ => "TYPE",
                };
                let exists = |c: &Catalog, n: &QualifiedName| {
                    c.enums.contains_key(n) || c.objects.contains_key(&ObjectId::Type(n.clone()))
                };
                if exists(current, &old)
                    && exists(desired, new)
                    && !exists(current, new)
                    && !exists(desired, &old)
                {
                    out.plain.push(rename(ObjectId::Type(old), new, keyword));
                } else if !exists(current, new) {
                    stale(d, format!("type {old}"));
                }
                continue;
            }
            Renamed::Function(new) => {
                let old = renamed(new);
                let mut any = false;
                for (id, o) in &current.objects {
                    let ObjectId::Function(name, args) = id else { continue };
                    let moved = ObjectId::Function(new.clone(), args.clone());
                    if *name == old
                        && desired.objects.contains_key(&moved)
                        && !current.objects.contains_key(&moved)
                        && !desired.objects.contains_key(id)
                    {
                        let keyword = match o.kind() {
                            crate::catalog::ObjectKind::Procedure => "PROCEDURE",
                            crate::catalog::ObjectKind::Aggregate => "AGGREGATE",
                            _ => "FUNCTION",
                        };
                        out.plain.push(rename(id.clone(), new, keyword));
                        any = true;
                    }
                }
                let done = current
                    .objects
                    .keys()
                    .any(|id| matches!(id, ObjectId::Function(n, _) if n == new));
                if !any && !done {
                    stale(d, format!("function {old}"));
                }
                continue;
            }
            Renamed::Column { .. } | Renamed::Constraint { .. } | Renamed::EnumValue { .. } => {
                through_table.push(d);
                continue;
            }
        };
        if exists_in(current, &old)
            && exists_in(desired, &new)
            && !here
            && !exists_in(desired, &old)
        {
            let ObjectId::Table(old_table) = &old else {
                out.plain.push(rename(old, &qualified_of(&new), keyword));
                continue;
            };
            let new_table = qualified_of(&new);
            out.plain.push(rename(old.clone(), &new_table, keyword));
            if !d.instant {
                out.aliases.push((new_table.clone(), d.from.clone()));
            }
            tables.insert(new_table.clone(), old_table.clone());
            out.plain.extend(named_after(current, desired, old_table, &new_table));
        } else if !here {
            stale(d, old.to_string());
        }
    }
    // A label's type may be renamed too.
    let types: BTreeMap<QualifiedName, QualifiedName> = (out.plain.iter())
        .filter_map(|c| match c {
            Change::Rename { from: ObjectId::Type(old), to, .. } => {
                Some((QualifiedName::new(old.schema.clone(), to.clone()), old.clone()))
            }
            _ => None,
        })
        .collect();
    for d in &through_table {
        let Renamed::EnumValue { type_name, label } = &d.target else { continue };
        let old_type = types.get(type_name).unwrap_or(type_name);
        let (Some(a), Some(b)) = (current.enums.get(old_type), desired.enums.get(type_name)) else {
            continue;
        };
        let has = |e: &crate::catalog::EnumType, l: &str| e.labels.iter().any(|x| x == l);
        if has(a, &d.from) && has(b, label) && !has(a, label) && !has(b, &d.from) {
            out.plain.push(Change::RenameEnumValue {
                name: type_name.clone(),
                from: d.from.clone(),
                to: label.clone(),
            });
        } else if !has(a, label) {
            stale(d, format!("label {} in type {old_type}", d.from));
        }
    }
    let mut in_place_notes = Vec::new();
    for d in through_table {
        let (Renamed::Column { table, column: new } | Renamed::Constraint { table, name: new }) =
            &d.target
        else {
            // Enum labels, above.
            continue;
        };
        let old_table = tables.get(table).unwrap_or(table);
        let (Some(a), Some(b)) = (current.tables.get(old_table), desired.tables.get(table)) else {
            if !current.tables.contains_key(table) {
                stale(d, format!("table {old_table}"));
            }
            continue;
        };
        if let Renamed::Constraint { .. } = &d.target {
            let has = |t: &crate::catalog::Table, n: &str| t.constraints.contains_key(n);
            if has(a, &d.from) && has(b, new) && !has(a, new) && !has(b, &d.from) {
                out.plain.push(rename(
                    ObjectId::Constraint(table.clone(), Name::from(&d.from)),
                    &QualifiedName::new("", new.clone()),
                    "",
                ));
            } else if !has(a, new) {
                stale(d, format!("constraint {} on {old_table}", d.from));
            }
            continue;
        }
        let (Some(old), None, Some(wanted), None) =
            (a.column(&d.from), a.column(new), b.column(new), b.column(&d.from))
        else {
            if a.column(new).is_none() {
                stale(d, format!("column {old_table}.{}", d.from));
            }
            continue;
        };
        // An identity or generated column cannot be written by a trigger: renamed in place.
        let in_place = |c: &Column| c.identity.is_some() || c.generated.is_some();
        if d.instant || in_place(old) || in_place(wanted) {
            if !d.instant {
                in_place_notes.push(format!(
                    "{}: column {table}.{new} is an identity or generated column, which a trigger cannot keep in step: it is renamed in place, so code that still uses {} fails from then on",
                    d.location, d.from
                ));
            }
            out.plain.push(rename(
                ObjectId::Column(table.clone(), Name::from(&d.from)),
                &QualifiedName::new("", new.clone()),
                "",
            ));
        } else {
            out.copies.push(ColumnCopy {
                table: table.clone(),
                old: d.from.clone(),
                new: new.clone(),
            });
        }
    }
    notes.extend(stale_notes);
    notes.extend(in_place_notes);
    out
}

fn rename(from: ObjectId, to: &QualifiedName, keyword: &str) -> Change {
    Change::Rename { from, to: to.name.to_string(), keyword: keyword.to_string() }
}

fn qualified_of(id: &ObjectId) -> QualifiedName {
    match id {
        ObjectId::Table(n) | ObjectId::Index(n) | ObjectId::Sequence(n) | ObjectId::View(n) => {
            n.clone()
        }
        other => QualifiedName::new("", other.name()),
    }
}

fn exists_in(catalog: &Catalog, id: &ObjectId) -> bool {
    match id {
        ObjectId::Table(n) => catalog.tables.contains_key(n),
        ObjectId::Index(n) => catalog.indexes.contains_key(n),
        ObjectId::Sequence(n) => catalog.sequences.contains_key(n),
        other => catalog.objects.contains_key(other),
    }
}

/// The constraints, indexes and sequences of a renamed table whose names PostgreSQL derived
/// from the old table name (`people_pkey`, `people_email_idx`, `people_id_seq`), renamed
/// along where `desired` has them under the new one: renaming keeps a key and its index
/// instead of building them again.
fn named_after(
    current: &Catalog,
    desired: &Catalog,
    old: &QualifiedName,
    new: &QualifiedName,
) -> Vec<Change> {
    let (from, to) = (format!("{}_", old.name), format!("{}_", new.name));
    let moved = |name: &str| name.strip_prefix(&from).map(|rest| format!("{to}{rest}"));
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (current.tables.get(old), desired.tables.get(new)) else {
        return out;
    };
    for c in a.constraints.values() {
        if let Some(name) = moved(&c.name)
            && b.constraints.contains_key(name.as_str())
            && !a.constraints.contains_key(name.as_str())
        {
            out.push(rename(
                ObjectId::Constraint(new.clone(), c.name.clone()),
                &QualifiedName::new("", name),
                "",
            ));
        }
    }
    let relation = |n: &QualifiedName, name: String| QualifiedName::new(n.schema.clone(), name);
    for i in current.indexes.values().filter(|i| i.table == *old) {
        if let Some(name) = moved(&i.name.name).map(|n| relation(&i.name, n))
            && desired.indexes.contains_key(&name)
            && !current.indexes.contains_key(&name)
        {
            out.push(rename(ObjectId::Index(i.name.clone()), &name, "INDEX"));
        }
    }
    // An identity column's sequence is the column's, named after the table too.
    for c in a.columns.iter() {
        if let (Some(x), Some(y)) =
            (&c.identity, b.column(&c.name).and_then(|d| d.identity.as_ref()))
            && x.sequence_name != y.sequence_name
            && moved(&x.sequence_name.name).as_deref() == Some(y.sequence_name.name.as_str())
        {
            out.push(rename(
                ObjectId::Sequence(x.sequence_name.clone()),
                &y.sequence_name,
                "SEQUENCE",
            ));
        }
    }
    for s in current.sequences.keys().filter(|s| s.schema == old.schema) {
        if let Some(name) = moved(&s.name).map(|n| relation(s, n))
            && desired.sequences.contains_key(&name)
            && !current.sequences.contains_key(&name)
            && !desired.sequences.contains_key(s)
        {
            out.push(rename(ObjectId::Sequence(s.clone()), &name, "SEQUENCE"));
        }
    }
    out
}

/// The changes that add back, next to `desired`, what the expand phase keeps of the current
/// state: each renamed column's old copy with the keys, checks and indexes on it whose names
/// `desired` leaves free. `renamed` is the current state after the plain renames.
pub fn kept_while_expanded(renames: &Renames, renamed: &Catalog, desired: &Catalog) -> Vec<Change> {
    let mut out = Vec::new();
    for copy in &renames.copies {
        let (Some(a), Some(b)) = (renamed.tables.get(&copy.table), desired.tables.get(&copy.table))
        else {
            continue;
        };
        let Some(old) = a.column(&copy.old) else { continue };
        let taken = |name: &str| {
            b.constraints.contains_key(name)
                || b.columns.iter().any(|c| c.not_null_name.as_deref() == Some(name))
                || desired
                    .indexes
                    .contains_key(&QualifiedName::new(copy.table.schema.clone(), name))
        };
        let mut old = old.clone();
        // PostgreSQL 18: the new copy takes the NOT NULL constraint's name with it; the old
        // one keeps the default name until it goes.
        if old.not_null_name.as_deref().is_some_and(taken) {
            old.not_null_name = None;
        }
        out.push(Change::AddColumn {
            table: copy.table.clone(),
            column: Box::new(old.clone()),
            table_is_new: false,
            inherited_by: Vec::new(),
        });
        if old.comment.is_some() {
            out.push(Change::Comment {
                target: crate::diff::CommentTarget::Column(
                    copy.table.clone(),
                    old.name.to_string(),
                ),
                comment: old.comment.clone(),
            });
        }
        let has_key = b.constraints.values().any(|c| c.kind == ConstraintKind::PrimaryKey);
        for c in a.constraints.values().filter(|c| c.columns.iter().any(|c| *c == copy.old)) {
            let second_key = c.kind == ConstraintKind::PrimaryKey && has_key;
            if !taken(&c.name) && !second_key {
                out.push(Change::add_constraint(&copy.table, c));
            }
        }
        for i in renamed
            .indexes
            .values()
            .filter(|i| i.table == copy.table && i.columns.iter().any(|c| *c == copy.old))
        {
            if !taken(&i.name.name) {
                out.push(Change::create_index(i));
            }
        }
    }
    out
}

/// The diff's changes with each renamed column's copy made safely: a column added next to its
/// other copy is added bare (nullable, no default), filled from the other copy in batches,
/// and only then takes on its default and NOT NULL (and, through the edges, its keys and
/// indexes); a column dropped while its other copy stays loses no data.
pub fn copy_columns(
    changes: Vec<Change>,
    current: &Catalog,
    desired: &Catalog,
    copies: &[ColumnCopy],
) -> Vec<Change> {
    if copies.is_empty() {
        return changes;
    }
    let in_both = |table: &QualifiedName, column: &str| {
        let has = |c: &Catalog| c.tables.get(table).is_some_and(|t| t.column(column).is_some());
        has(current) && has(desired)
    };
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        match change {
            Change::AddColumn { table, column, table_is_new: false, inherited_by } => {
                let source = (copies.iter())
                    .find_map(|c| Some((c, c.partner(&table, &column.name)?)))
                    .filter(|(_, other)| in_both(&table, other));
                let Some((copy, other)) = source else {
                    out.push(Change::AddColumn {
                        table,
                        column,
                        table_is_new: false,
                        inherited_by,
                    });
                    continue;
                };
                let mut bare = column.clone();
                (bare.not_null, bare.not_null_name) = (false, None);
                bare.default = None;
                bare.depends_on.retain(|d| !matches!(d, ObjectId::Sequence(_)));
                let actions = crate::diff::column_actions(&table, &bare, &column);
                out.push(Change::AddColumn {
                    table: table.clone(),
                    column: bare.clone(),
                    table_is_new: false,
                    inherited_by,
                });
                out.push(Change::Backfill {
                    table: table.clone(),
                    column: column.name.to_string(),
                    from: other.to_string(),
                    trigger: copy.trigger(),
                });
                if !actions.is_empty() {
                    debug_assert!(actions.iter().all(ColumnAction::takes_on));
                    out.push(Change::AlterColumn { table, from: bare, to: column, actions });
                }
            }
            Change::DropColumn { table, column, kept_in: None, owned_sequences, inherited_by } => {
                let kept_in = (copies.iter())
                    .find_map(|c| c.partner(&table, &column.name))
                    .filter(|other| in_both(&table, other))
                    .map(str::to_string);
                out.push(Change::DropColumn {
                    table,
                    column,
                    kept_in,
                    owned_sequences,
                    inherited_by,
                });
            }
            other => out.push(other),
        }
    }
    out
}
