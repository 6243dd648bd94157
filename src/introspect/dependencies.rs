//! Resolves `pg_depend` rows to edges between managed objects.
//!
//! Each kind's query registers the OIDs of its objects; a row whose ends both resolve becomes
//! an edge. An object no kind registers but that is *part of* a registered one (a view's
//! `_RETURN` rule, a column default, a domain's constraint, an array type) takes the identity
//! of its owner, so what it needs is needed by the owner. A sub-object that is not registered
//! (a view's column) stands for its whole object. Extension members stand for the extension.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::{Dependencies, FastMap, ObjectId};

/// System catalog OIDs; fixed in every PostgreSQL version.
pub const PG_CLASS: u32 = 1259;
pub const PG_TYPE: u32 = 1247;
pub const PG_PROC: u32 = 1255;
pub const PG_NAMESPACE: u32 = 2615;
pub const PG_CONSTRAINT: u32 = 2606;
pub const PG_ATTRDEF: u32 = 2604;
pub const PG_TRIGGER: u32 = 2620;
pub const PG_POLICY: u32 = 3256;
pub const PG_EXTENSION: u32 = 3079;
pub const PG_COLLATION: u32 = 3456;
pub const PG_REWRITE: u32 = 2618;
pub const PG_OPERATOR: u32 = 2617;
pub const PG_CAST: u32 = 2605;
pub const PG_FOREIGN_SERVER: u32 = 1417;
pub const PG_EVENT_TRIGGER: u32 = 3466;

/// `(catalog, oid, sub-id)` of a database object, as `pg_depend` addresses it.
pub type Address = (u32, u32, i32);

/// The managed object at each address. Identities are shared, not copied: a part takes its
/// owner's, and the dependency graph keeps the same ones (a 10,000-table catalog registers
/// half a million addresses).
pub struct Oids<'r> {
    ids: FastMap<Address, Arc<ObjectId>>,
    /// Another catalog's edges, whose identities are kept instead of equal new ones.
    like: Option<&'r Dependencies>,
    /// Only what privileges can name is registered (views among it, which their rules name):
    /// a catalog read to be compared builds no dependency graph, and the rest (defaults,
    /// constraints, indexes, triggers) is three fifths of the addresses.
    only_named_by_rows: bool,
}

impl<'r> Oids<'r> {
    pub fn for_purpose(purpose: super::Purpose, like: Option<&'r Dependencies>) -> Oids<'r> {
        let only_named_by_rows = purpose == super::Purpose::Compare;
        Oids { ids: FastMap::default(), like, only_named_by_rows }
    }

    pub fn register(&mut self, class: u32, oid: u32, sub: i32, id: ObjectId) {
        if oid != 0 && (!self.only_named_by_rows || super::access::may_have_privileges(&id)) {
            let id = self.kept(id);
            self.ids.insert((class, oid, sub), id);
        }
    }

    /// `id` as kept: the other catalog's when it names it.
    fn kept(&self, id: ObjectId) -> Arc<ObjectId> {
        let shared = self.like.and_then(|like| like.identity(&id)).cloned();
        shared.unwrap_or_else(|| Arc::new(id))
    }

    /// The object registered at exactly this address.
    pub fn exact(&self, address: Address) -> Option<&ObjectId> {
        self.ids.get(&address).map(|id| &**id)
    }

    fn resolve(&self, (class, oid, sub): Address) -> Option<&Arc<ObjectId>> {
        self.ids.get(&(class, oid, sub)).or_else(|| self.ids.get(&(class, oid, 0)))
    }
}

/// One `pg_depend` row: `object` depends on `target` with `kind`.
pub struct Edge {
    object: Address,
    target: Address,
    kind: char,
}

/// A row of `dependencies.sql`, read as it arrives: pg_depend's rows are the largest result
/// a catalog read holds (350,000 at 10,000 tables), and an edge is a third of a copied row.
pub fn edge(r: &tokio_postgres::Row) -> Edge {
    let kind: &str = r.get(6);
    Edge {
        object: (r.get(0), r.get(1), r.get(2)),
        target: (r.get(3), r.get(4), r.get(5)),
        kind: kind.chars().next().unwrap_or('n'),
    }
}

/// Builds the edges between registered objects from `dependencies.sql` rows.
pub fn resolve(
    oids: &mut Oids,
    extensions: &HashMap<u32, String>,
    edges: Vec<Edge>,
) -> Dependencies {
    // Members of an extension stand for it.
    for e in edges.iter().filter(|e| e.kind == 'e') {
        if let Some(name) = extensions.get(&e.target.1)
            && !oids.ids.contains_key(&e.object)
        {
            let id = oids.kept(ObjectId::Extension(name.into()));
            oids.ids.insert(e.object, id);
        }
    }
    // Parts take their owner's identity; owners may be parts themselves (the array of a
    // table's row type), so go round until nothing new resolves.
    loop {
        let mut learned = Vec::new();
        for e in &edges {
            let part_of = e.kind == 'i'
                || (e.kind == 'a' && matches!(e.object.0, PG_ATTRDEF | PG_CONSTRAINT));
            if !part_of || oids.ids.contains_key(&e.object) {
                continue;
            }
            if let Some(owner) = oids.resolve(e.target) {
                learned.push((e.object, owner.clone()));
            }
        }
        if learned.is_empty() {
            break;
        }
        for (address, owner) in learned {
            oids.ids.entry(address).or_insert(owner);
        }
    }
    let mut deps = Dependencies::default();
    for e in edges.iter().filter(|e| matches!(e.kind, 'n' | 'a')) {
        let (Some(object), Some(target)) = (oids.resolve(e.object), oids.resolve(e.target)) else {
            continue;
        };
        // A sequence owned by a column goes with it, but is made before it (OWNED BY is set
        // afterwards): ownership is not an ordering edge.
        if matches!(**object, ObjectId::Sequence(_)) && e.kind == 'a' {
            continue;
        }
        // Every view's rule depends on the view; only one that reads its own columns reads
        // itself (a default on a view's column names its column too, and is no query).
        if object == target && e.target.2 != 0 && e.object.0 == PG_REWRITE {
            deps.add_itself((**object).clone());
        }
        deps.add_shared(object, target);
    }
    deps
}
