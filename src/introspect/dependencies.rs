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

/// `(catalog, oid, sub-id)` of a database object, as `pg_depend` addresses it, in one word: a
/// system catalog's OID is under 16,384 (FirstNormalObjectId) and a sub-id is a column number
/// (at most 1,600), so each fits in 16 bits. The OID map holds half a million of these at
/// 10,000 tables, and a tuple of three took half as much room again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address(u64);

impl Address {
    pub fn new(class: u32, oid: u32, sub: i32) -> Address {
        debug_assert!(class <= 0xffff && i16::try_from(sub).is_ok(), "({class}, {oid}, {sub})");
        Address(u64::from(class) << 48 | u64::from(sub as i16 as u16) << 32 | u64::from(oid))
    }

    fn class(self) -> u32 {
        (self.0 >> 48) as u32
    }

    fn oid(self) -> u32 {
        self.0 as u32
    }

    fn sub(self) -> i32 {
        i32::from((self.0 >> 32) as u16 as i16)
    }

    /// The whole object a sub-object (a column) is part of.
    fn whole(self) -> Address {
        Address(self.0 & !(0xffff << 32))
    }
}

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
        // Sized as the other catalog's read was (see `Dependencies::sized_like`).
        let room = match (purpose, like) {
            (super::Purpose::Plan, Some(like)) => like.addresses + like.addresses / 10,
            _ => 0,
        };
        let ids = FastMap::with_capacity_and_hasher(room, Default::default());
        Oids { ids, like, only_named_by_rows }
    }

    pub fn register(&mut self, class: u32, oid: u32, sub: i32, id: ObjectId) {
        if oid != 0 && (!self.only_named_by_rows || super::access::may_have_privileges(&id)) {
            let id = self.kept(id);
            self.ids.insert(Address::new(class, oid, sub), id);
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

    fn resolve(&self, address: Address) -> Option<&Arc<ObjectId>> {
        self.ids.get(&address).or_else(|| self.ids.get(&address.whole()))
    }
}

/// One `pg_depend` row: `object` depends on `target` with `kind`.
pub struct Edge {
    object: Address,
    target: Address,
    kind: u8,
}

/// A row of `dependencies.sql`, read as it arrives: pg_depend's rows are the largest result
/// a catalog read holds (350,000 at 10,000 tables), and an edge is a third of a copied row.
pub fn edge(r: &tokio_postgres::Row) -> Edge {
    let kind: &str = r.get(6);
    Edge {
        object: Address::new(r.get(0), r.get(1), r.get(2)),
        target: Address::new(r.get(3), r.get(4), r.get(5)),
        kind: kind.bytes().next().unwrap_or(b'n'),
    }
}

/// Builds the edges between registered objects from `dependencies.sql` rows.
pub fn resolve(
    mut oids: Oids,
    extensions: &HashMap<u32, String>,
    edges: Vec<Edge>,
) -> Dependencies {
    // Members of an extension stand for it.
    for e in edges.iter().filter(|e| e.kind == b'e') {
        if let Some(name) = extensions.get(&e.target.oid())
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
            let part_of = e.kind == b'i'
                || (e.kind == b'a' && matches!(e.object.class(), PG_ATTRDEF | PG_CONSTRAINT));
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
    let mut deps = match oids.like {
        Some(like) if !oids.only_named_by_rows => Dependencies::sized_like(like),
        _ => Dependencies::default(),
    };
    for e in edges.iter().filter(|e| matches!(e.kind, b'n' | b'a')) {
        let (Some(object), Some(target)) = (oids.resolve(e.object), oids.resolve(e.target)) else {
            continue;
        };
        // A sequence owned by a column goes with it, but is made before it (OWNED BY is set
        // afterwards): ownership is not an ordering edge.
        if matches!(**object, ObjectId::Sequence(_)) && e.kind == b'a' {
            continue;
        }
        // Every view's rule depends on the view; only one that reads its own columns reads
        // itself (a default on a view's column names its column too, and is no query).
        if object == target && e.target.sub() != 0 && e.object.class() == PG_REWRITE {
            deps.add_itself((**object).clone());
        }
        deps.add_shared(object, target);
    }
    // The OID map and the rows are the most a catalog read holds: gone before the edges kept
    // are packed, which copies them.
    deps.addresses = oids.ids.len();
    drop((oids, edges));
    deps.shrink_to_fit();
    deps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_catalog_oid_and_column_and_names_its_whole_object() {
        for (class, oid, sub) in
            [(PG_CLASS, u32::MAX, 1600), (PG_CLASS, 16384, -7), (PG_CAST, 1, 0)]
        {
            let address = Address::new(class, oid, sub);
            assert_eq!((address.class(), address.oid(), address.sub()), (class, oid, sub));
            assert_eq!(address.whole(), Address::new(class, oid, 0));
        }
        assert_ne!(Address::new(PG_CLASS, 5, 1), Address::new(PG_TYPE, 5, 1));
    }
}
