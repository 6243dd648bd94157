//! The dependency edges between managed objects, read from PostgreSQL's own records
//! (`pg_depend`) and from routine bodies the catalog cannot see into.

use std::collections::{BTreeMap, BTreeSet};

use super::ObjectId;

/// `object -> what it needs`. Derived from the objects, so two catalogs with equal objects
/// are equal whatever their edges (the comparison ignores this field).
#[derive(Debug, Clone, Default)]
pub struct Dependencies {
    needs: BTreeMap<ObjectId, BTreeSet<ObjectId>>,
    needed_by: BTreeMap<ObjectId, BTreeSet<ObjectId>>,
    /// Objects that need themselves (a view that reads itself), which is no ordering edge.
    itself: BTreeSet<ObjectId>,
}

impl PartialEq for Dependencies {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Dependencies {}

static NONE: BTreeSet<ObjectId> = BTreeSet::new();

impl Dependencies {
    /// Records that `object` needs `target`; an object never needs itself. Identities are
    /// cloned only for an edge not seen yet: `pg_depend` repeats edges between the same
    /// objects many times (a column per index column, say).
    pub fn add(&mut self, object: &ObjectId, target: &ObjectId) {
        if object == target || self.needs.get(object).is_some_and(|t| t.contains(target)) {
            return;
        }
        fn insert(
            map: &mut BTreeMap<ObjectId, BTreeSet<ObjectId>>,
            key: &ObjectId,
            value: &ObjectId,
        ) {
            match map.get_mut(key) {
                Some(set) => {
                    set.insert(value.clone());
                }
                None => {
                    map.insert(key.clone(), BTreeSet::from([value.clone()]));
                }
            }
        }
        insert(&mut self.needs, object, target);
        insert(&mut self.needed_by, target, object);
    }

    /// Records that `object` reads itself.
    pub fn add_itself(&mut self, object: ObjectId) {
        self.itself.insert(object);
    }

    /// Whether `object` needs itself.
    pub fn refers_to_itself(&self, object: &ObjectId) -> bool {
        self.itself.contains(object)
    }

    /// What `object` needs.
    pub fn of(&self, object: &ObjectId) -> &BTreeSet<ObjectId> {
        self.needs.get(object).unwrap_or(&NONE)
    }

    /// What needs `object`.
    pub fn dependents(&self, object: &ObjectId) -> &BTreeSet<ObjectId> {
        self.needed_by.get(object).unwrap_or(&NONE)
    }

    /// Every edge, `(object, what it needs)`, in order.
    pub fn edges(&self) -> impl Iterator<Item = (&ObjectId, &ObjectId)> {
        self.needs.iter().flat_map(|(object, targets)| targets.iter().map(move |t| (object, t)))
    }

    pub fn len(&self) -> usize {
        self.needs.values().map(BTreeSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.needs.is_empty()
    }
}
