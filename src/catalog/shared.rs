//! Parts of a catalog held once for two catalogs. A plan holds several states of one schema
//! that mostly agree (the live catalog and `schema/` loaded, a state and what verification
//! reads back), and a catalog read beside another, or only compared with it, takes the other's
//! copy of each part the two have alike: at 10,000 tables, most of a catalog's megabytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use litemap::LiteMap;

use super::{Catalog, Column, Constraint, Index, Name, Object, QualifiedName, Table};

/// What two catalogs' parts must have in common for one to hold the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alike {
    /// Every field, those the comparison leaves out too: before a plan is made from them.
    InFull,
    /// Equal as catalogs compare: once they are only compared.
    Compared,
}

/// A part of a catalog that another catalog's copy may stand for.
pub trait Part {
    /// Whether `other` may stand for `self` when the two need only be `alike`.
    fn alike(&self, other: &Self, alike: Alike) -> bool;
}

/// `same_in_full` when the two must agree in full, the comparison's equality otherwise: the
/// parts whose comparison leaves fields out.
fn in_full_or_compared<T: PartialEq>(
    a: &T,
    b: &T,
    alike: Alike,
    same_in_full: fn(&T, &T) -> bool,
) -> bool {
    match alike {
        Alike::InFull => same_in_full(a, b),
        Alike::Compared => a == b,
    }
}

impl Part for Column {
    fn alike(&self, other: &Self, alike: Alike) -> bool {
        in_full_or_compared(self, other, alike, Column::same_in_full)
    }
}

impl Part for Constraint {
    fn alike(&self, other: &Self, alike: Alike) -> bool {
        in_full_or_compared(self, other, alike, Constraint::same_in_full)
    }
}

impl Part for Index {
    fn alike(&self, other: &Self, alike: Alike) -> bool {
        in_full_or_compared(self, other, alike, Index::same_in_full)
    }
}

impl Part for Table {
    /// Every field is named, so that a new one is weighed; in full, the columns' order too
    /// (the comparison takes them by name).
    fn alike(&self, other: &Self, alike: Alike) -> bool {
        let Table {
            name,
            columns,
            constraints,
            comment,
            row_security,
            force_row_security,
            unlogged,
            options,
            replica_identity,
            partition_by,
            partition_of,
            inherits,
        } = self;
        match alike {
            Alike::Compared => self == other,
            Alike::InFull => {
                (name, comment, row_security, force_row_security, unlogged, options)
                    == (
                        &other.name,
                        &other.comment,
                        &other.row_security,
                        &other.force_row_security,
                        &other.unlogged,
                        &other.options,
                    )
                    && (replica_identity, partition_by, partition_of, inherits)
                        == (
                            &other.replica_identity,
                            &other.partition_by,
                            &other.partition_of,
                            &other.inherits,
                        )
                    && (Arc::ptr_eq(columns, &other.columns)
                        || columns.alike(&other.columns, alike))
                    && (Arc::ptr_eq(constraints, &other.constraints)
                        || constraints.alike(&other.constraints, alike))
            }
        }
    }
}

/// An object's equality is derived over every field: alike means equal either way.
impl Part for Object {
    fn alike(&self, other: &Self, _: Alike) -> bool {
        self == other
    }
}

impl<T: Part> Part for Vec<T> {
    fn alike(&self, other: &Self, alike: Alike) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a.alike(b, alike))
    }
}

impl<T: Part> Part for LiteMap<Name, T> {
    fn alike(&self, other: &Self, alike: Alike) -> bool {
        self.len() == other.len()
            && (self.iter().zip(other.iter())).all(|((x, a), (y, b))| x == y && a.alike(b, alike))
    }
}

/// `theirs` in place of `mine` when the two are `alike`.
fn share<T: Part>(mine: &mut Arc<T>, theirs: &Arc<T>, alike: Alike) {
    if !Arc::ptr_eq(mine, theirs) && mine.alike(theirs, alike) {
        *mine = Arc::clone(theirs);
    }
}

/// `share` for each entry of `mine` that `theirs` has under the same key.
fn share_entries<K: Ord, T: Part>(
    mine: &mut BTreeMap<K, Arc<T>>,
    theirs: &BTreeMap<K, Arc<T>>,
    alike: Alike,
) {
    for (key, part) in mine.iter_mut() {
        if let Some(their) = theirs.get(key) {
            share(part, their, alike);
        }
    }
}

impl Catalog {
    /// Takes `other`'s copy of every part `alike` there: each table's columns and constraints,
    /// the indexes and the objects. Shared when `Alike::Compared`, what the comparison leaves
    /// out (what a column depends on, an index's validity) is then `other`'s.
    pub fn share_with(&mut self, other: &Catalog, alike: Alike) {
        self.share_columns_with(other, alike);
        self.share_constraints_with(other, alike);
        self.share_tables_with(other, alike);
        self.share_indexes_with(other, alike);
        self.share_objects_with(other, alike);
    }

    /// Each table's columns, a quarter of a catalog (25 MB at 10,000 tables).
    pub fn share_columns_with(&mut self, other: &Catalog, alike: Alike) {
        self.share_in_tables(other, alike, |t| &mut t.columns, |t| &t.columns);
    }

    /// Each table's constraints (14 MB at 10,000 tables).
    pub fn share_constraints_with(&mut self, other: &Catalog, alike: Alike) {
        self.share_in_tables(other, alike, |t| &mut t.constraints, |t| &t.constraints);
    }

    /// Whole tables, once their columns and constraints are shared (7 MB at 10,000 tables).
    pub fn share_tables_with(&mut self, other: &Catalog, alike: Alike) {
        share_entries(&mut self.tables, &other.tables, alike);
    }

    /// The indexes that back no constraint (12 MB at 10,000 tables).
    pub fn share_indexes_with(&mut self, other: &Catalog, alike: Alike) {
        share_entries(&mut self.indexes, &other.indexes, alike);
    }

    /// Views, routines, triggers and the other definition kinds (10 MB at 10,000 tables).
    pub fn share_objects_with(&mut self, other: &Catalog, alike: Alike) {
        share_entries(&mut self.objects, &other.objects, alike);
    }

    /// One table's columns, shared as `share_columns_with` shares them all: a read shares each
    /// table's as soon as they are read, so it never holds a second copy of them all.
    pub fn share_columns_of(&mut self, name: &QualifiedName, other: &Catalog, alike: Alike) {
        if let (Some(table), Some(their)) = (self.tables.get_mut(name), other.tables.get(name)) {
            share_in_table(table, their, alike, |t| &mut t.columns, |t| &t.columns);
        }
    }

    /// One table's constraints, as `share_columns_of`.
    pub fn share_constraints_of(&mut self, name: &QualifiedName, other: &Catalog, alike: Alike) {
        if let (Some(table), Some(their)) = (self.tables.get_mut(name), other.tables.get(name)) {
            share_in_table(table, their, alike, |t| &mut t.constraints, |t| &t.constraints);
        }
    }

    fn share_in_tables<T: Part>(
        &mut self,
        other: &Catalog,
        alike: Alike,
        mine: fn(&mut Table) -> &mut Arc<T>,
        theirs: fn(&Table) -> &Arc<T>,
    ) {
        for (name, table) in &mut self.tables {
            let Some(their) = other.tables.get(name) else { continue };
            share_in_table(table, their, alike, mine, theirs);
        }
    }
}

/// `their` part of a table in place of `table`'s, when the two are `alike`.
fn share_in_table<T: Part>(
    table: &mut Arc<Table>,
    their: &Table,
    alike: Alike,
    mine: fn(&mut Table) -> &mut Arc<T>,
    theirs: fn(&Table) -> &Arc<T>,
) {
    let (part, their) = (theirs(table), theirs(their));
    // A table already shared whole, or a part already shared, is left alone: a table is
    // copied to change its part only when that saves the part.
    if !Arc::ptr_eq(part, their) && part.alike(their, alike) {
        *mine(Arc::make_mut(table)) = Arc::clone(their);
    }
}

/// `part`, or `theirs` in its place when the two are `alike`: for a read that shares each
/// part as it is read.
pub fn or_theirs<T: Part>(part: Arc<T>, theirs: Option<&Arc<T>>, alike: Alike) -> Arc<T> {
    match theirs {
        Some(theirs) if part.alike(theirs, alike) => Arc::clone(theirs),
        _ => part,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    fn with_index(valid: bool) -> Catalog {
        let name = QualifiedName::new("public", "t_a");
        let index = Index {
            name: name.clone(),
            table: QualifiedName::new("public", "t"),
            definition: "CREATE INDEX t_a ON public.t USING btree (a)".into(),
            columns: vec!["a".into()],
            comment: None,
            valid,
        };
        Catalog { indexes: [(name, Arc::new(index))].into(), ..Default::default() }
    }

    #[test]
    fn an_invalid_index_is_not_shared_before_a_plan_but_is_once_compared() {
        // A plan builds an invalid index again: the desired state must not take the live
        // catalog's invalid copy, though the comparison leaves validity out.
        let current = with_index(false);
        let mut desired = with_index(true);
        desired.share_with(&current, Alike::InFull);
        let shared = |c: &Catalog| Arc::ptr_eq(&c.indexes[&key()], &current.indexes[&key()]);
        assert!(!shared(&desired));
        assert!(desired.indexes[&key()].valid);
        desired.share_with(&current, Alike::Compared);
        assert!(shared(&desired));
        let mut again = with_index(false);
        again.share_with(&current, Alike::InFull);
        assert!(shared(&again));
    }

    fn key() -> QualifiedName {
        QualifiedName::new("public", "t_a")
    }
}
