//! The dependency edges between managed objects, read from PostgreSQL's own records
//! (`pg_depend`) and from routine bodies the catalog cannot see into.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{FastMap, ObjectId};

/// `object -> what it needs`. Derived from the objects, so two catalogs with equal objects
/// are equal whatever their edges (the comparison ignores this field).
///
/// Each object is stored once and edges refer to it by position: a 10,000-table catalog has
/// some 300,000 edges, and two maps of cloned identities took over 200 MB per catalog.
#[derive(Debug, Clone, Default)]
pub struct Dependencies {
    ids: Vec<Arc<ObjectId>>,
    index: FastMap<Arc<ObjectId>, u32>,
    /// By position: what each object needs, and what needs it, in the order recorded.
    needs: Vec<Vec<u32>>,
    needed_by: Vec<Vec<u32>>,
    /// Objects that need themselves (a view that reads itself), which is no ordering edge.
    itself: BTreeSet<ObjectId>,
}

impl PartialEq for Dependencies {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Dependencies {}

impl Dependencies {
    fn intern(&mut self, id: &Arc<ObjectId>) -> u32 {
        if let Some(&at) = self.index.get(&**id) {
            return at;
        }
        let at = self.ids.len() as u32;
        self.ids.push(id.clone());
        self.index.insert(id.clone(), at);
        self.needs.push(Vec::new());
        self.needed_by.push(Vec::new());
        at
    }

    /// Records that `object` needs `target`; an object never needs itself. `pg_depend`
    /// repeats edges between the same objects many times (a column per index column, say).
    pub fn add(&mut self, object: &ObjectId, target: &ObjectId) {
        self.add_shared(&Arc::new(object.clone()), &Arc::new(target.clone()));
    }

    /// `add`, keeping the identities given rather than copies of them.
    pub fn add_shared(&mut self, object: &Arc<ObjectId>, target: &Arc<ObjectId>) {
        if object == target {
            return;
        }
        let (a, b) = (self.intern(object), self.intern(target));
        let needs = &mut self.needs[a as usize];
        if needs.contains(&b) {
            return;
        }
        needs.push(b);
        self.needed_by[b as usize].push(a);
    }

    /// Records that `object` reads itself.
    pub fn add_itself(&mut self, object: ObjectId) {
        self.itself.insert(object);
    }

    /// Whether `object` needs itself.
    pub fn refers_to_itself(&self, object: &ObjectId) -> bool {
        self.itself.contains(object)
    }

    /// The objects at `positions`, in identity order (the order never depends on the order
    /// PostgreSQL listed the edges in).
    fn sorted(&self, positions: Option<&Vec<u32>>) -> Vec<&ObjectId> {
        let mut out: Vec<&ObjectId> =
            positions.into_iter().flatten().map(|&i| &*self.ids[i as usize]).collect();
        out.sort_unstable();
        out
    }

    /// What `object` needs, in order.
    pub fn of(&self, object: &ObjectId) -> Vec<&ObjectId> {
        self.sorted(self.index.get(object).map(|&i| &self.needs[i as usize]))
    }

    /// Whether `object` needs `target`.
    pub fn needs(&self, object: &ObjectId, target: &ObjectId) -> bool {
        let (Some(&a), Some(&b)) = (self.index.get(object), self.index.get(target)) else {
            return false;
        };
        self.needs[a as usize].contains(&b)
    }

    /// What needs `object`, in order.
    pub fn dependents(&self, object: &ObjectId) -> Vec<&ObjectId> {
        self.sorted(self.index.get(object).map(|&i| &self.needed_by[i as usize]))
    }

    /// Every edge, `(object, what it needs)`, in order.
    pub fn edges(&self) -> impl Iterator<Item = (&ObjectId, &ObjectId)> {
        let mut all: Vec<(&ObjectId, &ObjectId)> = (self.needs.iter().enumerate())
            .flat_map(|(a, targets)| {
                targets.iter().map(move |&b| (&*self.ids[a], &*self.ids[b as usize]))
            })
            .collect();
        all.sort_unstable();
        all.into_iter()
    }

    pub fn len(&self) -> usize {
        self.needs.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
