//! The model of a database schema: plain data, ordered, no I/O.
//!
//! Both sides of every diff are a `Catalog` read back from a real PostgreSQL by `introspect`,
//! so two equal schemas compare equal field by field.

mod access;
mod collation;
mod dependencies;
mod foreign;
mod function;
mod identity;
mod object;
mod operator;
mod policy;
mod rule;
mod sequence;
mod shared;
mod table;
mod trigger;
mod types;
mod view;

pub use access::{Access, Grants, Manage, Privilege};
pub use collation::Collation;
pub use dependencies::Dependencies;
pub(crate) use dependencies::Neighbours;
pub use foreign::{EventTrigger, ForeignColumn, ForeignTable, Server};
pub use function::{Aggregate, Function, RoutineKind};
pub use identity::{Name, ObjectId, QualifiedName, with_suffix};
pub use object::{Object, ObjectKind};
pub use operator::{Cast, Operator};
pub use policy::Policy;
pub use rule::Rule;
pub use sequence::{Identity, Sequence, SequenceOptions};
pub use shared::{Alike, Part, or_theirs};
pub use table::{
    Column, Constraint, ConstraintKind, Index, PartitionOf, ReplicaIdentity, Table,
    TableProperties, default_not_null_name,
};
pub use trigger::{Trigger, TriggerState};
pub use types::{Attribute, CompositeType, Domain, RangeType};
pub use view::View;

/// A hash map keyed by what the tool itself read (OIDs, identities): foldhash rather than
/// SipHash, whose resistance to chosen keys buys nothing here and which was a tenth of the
/// tool's own time reading a 10,000-table catalog.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

use std::collections::BTreeMap;
use std::fmt::Write;

/// A schema (namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub name: String,
    pub comment: Option<String>,
}

/// An installed extension; its member objects are not part of the catalog.
#[derive(Debug, Clone, Eq)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    /// Compared only where `schema/` names it (`CREATE EXTENSION ... VERSION`, see `pinned`):
    /// otherwise a migration creates an extension at the server's default version, and most
    /// extensions ship no script to go back.
    pub version: String,
    /// Whether `schema/` asks for exactly `version`; state of the source, not compared.
    pub pinned: bool,
}

impl PartialEq for Extension {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.schema) == (&other.name, &other.schema)
    }
}

/// An enum type with its labels in sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    pub name: QualifiedName,
    pub labels: Vec<String>,
    pub comment: Option<String>,
}

/// Everything schemadiff manages in one database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub schemas: BTreeMap<String, Schema>,
    pub extensions: BTreeMap<String, Extension>,
    pub enums: BTreeMap<QualifiedName, EnumType>,
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    /// Shared as a whole when alike, and each table's columns and constraints when those are.
    pub tables: BTreeMap<QualifiedName, std::sync::Arc<Table>>,
    /// Shared, as a table's columns are: most are the same in the states a plan holds.
    pub indexes: BTreeMap<QualifiedName, std::sync::Arc<Index>>,
    /// Views, routines, triggers, policies, domains and composite types.
    /// Shared as the indexes are.
    pub objects: BTreeMap<ObjectId, std::sync::Arc<Object>>,
    /// Owners and privileges of the objects above, and the defaults for new ones.
    pub access: BTreeMap<ObjectId, Access>,
    /// Edges between the objects above, not compared.
    pub depends: Dependencies,
    /// Edges from PL/pgSQL bodies: they order the plan unless they close a cycle.
    pub soft_depends: Dependencies,
}

impl Catalog {
    /// Lets go of the edges once the plan is made: a catalog that is only compared needs none
    /// (they are not compared), and at 10,000 tables they are over a third of it.
    pub fn forget_dependencies(&mut self) {
        self.depends = Dependencies::default();
        self.soft_depends = Dependencies::default();
    }

    /// The table a foreign key points at, whether the key names its unique constraint, its
    /// unique index or its table; None for the other kinds of constraint.
    pub fn referenced_table<'c>(&'c self, key: &'c Constraint) -> Option<&'c QualifiedName> {
        key.depends_on.iter().find_map(|d| match d {
            ObjectId::Constraint(table, _) | ObjectId::Table(table) => Some(table),
            ObjectId::Index(index) => self.indexes.get(index).map(|i| &i.table),
            _ => None,
        })
    }

    /// Whether a table or (materialized) view of that name exists.
    pub fn has_relation(&self, name: &QualifiedName) -> bool {
        self.tables.contains_key(name) || self.objects.contains_key(&ObjectId::View(name.clone()))
    }

    /// Marks the extensions whose version `schema/` names, so that version is managed.
    pub fn pin_extensions(&mut self, names: &std::collections::BTreeSet<String>) {
        for e in self.extensions.values_mut() {
            e.pinned = names.contains(&e.name);
        }
    }

    /// Extensions installed here at another version than in `other` where `other` does not
    /// pin it: (name, here, there).
    pub fn extension_versions_apart<'a>(
        &'a self,
        other: &'a Catalog,
    ) -> Vec<(&'a str, &'a str, &'a str)> {
        (self.extensions.values())
            .filter_map(|e| {
                let o = other.extensions.get(&e.name)?;
                (o.version != e.version && !o.pinned).then_some((
                    e.name.as_str(),
                    e.version.as_str(),
                    o.version.as_str(),
                ))
            })
            .collect()
    }

    /// Indexes a failed `CREATE INDEX CONCURRENTLY` left invalid, for a note.
    pub fn invalid_indexes(&self) -> Vec<&QualifiedName> {
        self.indexes.values().filter(|i| !i.valid).map(|i| &i.name).collect()
    }

    /// Forgets a table with its indexes and grants (another tool's history table, say).
    pub fn forget_table(&mut self, name: &QualifiedName) {
        self.tables.remove(name);
        self.indexes.retain(|_, i| i.table != *name);
        self.access.retain(|id, _| match id {
            ObjectId::Table(t) | ObjectId::Column(t, _) => t != name,
            _ => true,
        });
    }

    /// Forgets what the project does not manage, on both sides of a diff alike.
    pub fn restrict_to(&mut self, manage: Manage) {
        if !manage.privileges {
            self.access.retain(|id, _| !matches!(id, ObjectId::DefaultPrivileges { .. }));
            self.access.values_mut().for_each(|a| a.grants.clear());
        }
        if !manage.owners {
            self.access.values_mut().for_each(|a| a.owner = None);
        }
        self.access.retain(|id, a| !a.is_implied(id));
    }

    /// One line per fact, in a stable order: what a residual difference is shown as.
    pub fn facts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in self.schemas.values() {
            out.push(format!("schema {} comment={:?}", s.name, s.comment));
        }
        for e in self.extensions.values() {
            out.push(format!("extension {} schema={}", e.name, e.schema));
        }
        for e in self.enums.values() {
            out.push(format!("enum {} {:?} comment={:?}", e.name, e.labels, e.comment));
        }
        for s in self.sequences.values() {
            out.push(format!(
                "sequence {} {:?} owned_by={:?} comment={:?}",
                s.name, s.options, s.owned_by, s.comment
            ));
        }
        for t in self.tables.values() {
            out.push(format!(
                "table {} comment={:?} row_security={}/{} {:?}",
                t.name,
                t.comment,
                t.row_security,
                t.force_row_security,
                t.properties()
            ));
            if let Some(by) = &t.partition_by {
                out.push(format!("table {} partition by {by}", t.name));
            }
            if let Some(p) = &t.partition_of {
                out.push(format!("table {} partition of {} {}", t.name, p.parent, p.bound));
            }
            if !t.inherits.is_empty() {
                let parents: Vec<String> = t.inherits.iter().map(|p| p.to_string()).collect();
                out.push(format!("table {} inherits {}", t.name, parents.join(", ")));
            }
            for c in t.columns_by_name() {
                let mut line = format!("column {}.{} {}", t.name, c.name, c.type_sql);
                if let Some(coll) = &c.collation {
                    let _ = write!(line, " collate {coll}");
                }
                if c.not_null {
                    line.push_str(" not null");
                }
                if let Some(n) = &c.not_null_name {
                    let _ = write!(line, " constraint {n}");
                }
                if let Some(d) = &c.default {
                    let _ = write!(line, " default {d}");
                }
                if let Some(i) = &c.identity {
                    let _ = write!(line, " identity {i:?}");
                }
                if let Some(g) = &c.generated {
                    let _ = write!(line, " generated {g}");
                }
                if let Some(cm) = &c.comment {
                    let _ = write!(line, " comment={cm:?}");
                }
                for (what, value) in [("storage", &c.storage), ("compression", &c.compression)] {
                    if let Some(v) = value {
                        let _ = write!(line, " {what}={v}");
                    }
                }
                if let Some(s) = c.statistics {
                    let _ = write!(line, " statistics={s}");
                }
                if c.inherited {
                    line.push_str(" inherited");
                }
                out.push(line);
            }
            for c in t.constraints.values() {
                out.push(format!(
                    "constraint {}.{} {} comment={:?}",
                    t.name, c.name, c.definition, c.comment
                ));
            }
        }
        for i in self.indexes.values() {
            out.push(format!("index {} {} comment={:?}", i.name, i.definition, i.comment));
        }
        for (id, o) in &self.objects {
            out.push(format!("{id} {o:?}"));
        }
        for (id, a) in &self.access {
            if let Some(owner) = &a.owner {
                out.push(format!("{id} owner {owner}"));
            }
            for (p, grantable) in &a.grants {
                let option = if *grantable { " with grant option" } else { "" };
                out.push(format!("{id} grant {} to {}{option}", p.privilege, p.grantee));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn table(name: &str, types: &[&str]) -> Table {
        let column = |(i, type_sql): (usize, &&str)| Column {
            name: compact_str::format_compact!("c{i}"),
            type_sql: (*type_sql).into(),
            collation: None,
            not_null: false,
            not_null_name: None,
            default: None,
            identity: None,
            generated: None,
            generated_virtual: false,
            comment: None,
            depends_on: Vec::new(),
            storage: None,
            type_storage: 'p',
            compression: None,
            statistics: None,
            inherited: false,
        };
        Table {
            name: QualifiedName::new("public", name),
            columns: Arc::new(types.iter().enumerate().map(column).collect()),
            constraints: Default::default(),
            comment: None,
            row_security: false,
            force_row_security: false,
            unlogged: false,
            options: Vec::new(),
            replica_identity: ReplicaIdentity::Default,
            partition_by: None,
            partition_of: None,
            inherits: Vec::new(),
        }
    }

    fn catalog(tables: Vec<Table>) -> Catalog {
        Catalog {
            tables: tables.into_iter().map(|t| (t.name.clone(), Arc::new(t))).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn equal_columns_are_shared_and_the_others_kept() {
        let current = catalog(vec![table("a", &["int", "text"]), table("b", &["int"])]);
        let mut desired = catalog(vec![table("a", &["int", "text"]), table("b", &["bigint"])]);
        let before = desired.clone();
        desired.share_columns_with(&current, Alike::Compared);
        let columns =
            |c: &Catalog, t: &str| Arc::clone(&c.tables[&QualifiedName::new("public", t)].columns);
        assert!(Arc::ptr_eq(&columns(&desired, "a"), &columns(&current, "a")));
        assert!(!Arc::ptr_eq(&columns(&desired, "b"), &columns(&current, "b")));
        assert!(desired == before);
    }
    #[test]
    fn columns_shared_while_read_are_the_same_in_every_field() {
        let current = catalog(vec![table("a", &["int"]), table("b", &["int"])]);
        let mut desired = catalog(vec![table("a", &["int"]), table("b", &["int"])]);
        // What a column depends on is no part of the comparison, but a plan orders by it.
        let b = &mut desired.tables.get_mut(&QualifiedName::new("public", "b")).unwrap();
        Arc::make_mut(&mut Arc::make_mut(b).columns)[0]
            .depends_on
            .push(ObjectId::Extension("x".into()));
        desired.share_columns_with(&current, Alike::InFull);
        let columns =
            |c: &Catalog, t: &str| Arc::clone(&c.tables[&QualifiedName::new("public", t)].columns);
        assert!(Arc::ptr_eq(&columns(&desired, "a"), &columns(&current, "a")));
        assert!(!Arc::ptr_eq(&columns(&desired, "b"), &columns(&current, "b")));
        assert_eq!(columns(&desired, "b")[0].depends_on.len(), 1);
        // Once the plan is made, the comparison's equality is enough.
        desired.share_columns_with(&current, Alike::Compared);
        assert!(Arc::ptr_eq(&columns(&desired, "b"), &columns(&current, "b")));
    }

    #[test]
    fn a_table_shared_before_a_plan_has_its_columns_in_the_same_order() {
        // The comparison takes columns by name; a table made from the other's copy would list
        // them in the other's order.
        let current = catalog(vec![table("a", &["int", "text"])]);
        let mut reordered = current.clone();
        let a = reordered.tables.get_mut(&QualifiedName::new("public", "a")).unwrap();
        Arc::make_mut(&mut Arc::make_mut(a).columns).reverse();
        let mut desired = catalog(vec![table("a", &["int", "text"])]);
        let shared = |c: &Catalog| {
            let key = QualifiedName::new("public", "a");
            Arc::ptr_eq(&c.tables[&key], &current.tables[&key])
        };
        desired.share_with(&current, Alike::InFull);
        assert!(shared(&desired));
        reordered.share_with(&current, Alike::InFull);
        assert!(!shared(&reordered));
        reordered.share_with(&current, Alike::Compared);
        assert!(shared(&reordered));
    }
}
