//! The dependency edges between managed objects, read from PostgreSQL's own records
//! (`pg_depend`) and from routine bodies the catalog cannot see into.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

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
    /// Every edge as recorded, `[object, target]` by position, repeats included.
    recorded: Vec<[u32; 2]>,
    /// What each object needs and what needs it, indexed from `recorded` when first asked
    /// (and again after an edge is added). Two vectors per object took 100 bytes an object,
    /// a fifth of a 10,000-table catalog; these take 8 and 8 an edge.
    adjacency: OnceLock<Adjacency>,
    /// Objects that need themselves (a view that reads itself), which is no ordering edge.
    itself: BTreeSet<ObjectId>,
    /// How many `pg_depend` addresses the catalog read that found these edges resolved.
    pub addresses: usize,
}

#[derive(Debug, Clone)]
struct Adjacency {
    needs: Neighbours,
    needed_by: Neighbours,
}

/// The catalog's edges, and a plan's steps by the objects they name.
/// Each object's neighbours, one after another: object `i`'s are `at[starts[i]..starts[i + 1]]`.
#[derive(Debug, Clone)]
pub(crate) struct Neighbours {
    starts: Vec<u32>,
    at: Vec<u32>,
}

impl Neighbours {
    /// From `[from, to]` pairs, each `to` once per `from`.
    pub(crate) fn index(
        objects: usize,
        edges: impl Iterator<Item = [u32; 2]> + Clone,
    ) -> Neighbours {
        let mut starts = vec![0u32; objects + 1];
        for [from, _] in edges.clone() {
            starts[from as usize + 1] += 1;
        }
        for i in 0..objects {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut at = vec![0u32; starts[objects] as usize];
        for [from, to] in edges {
            at[next[from as usize] as usize] = to;
            next[from as usize] += 1;
        }
        // Repeats removed in place, each object's neighbours sorted by position.
        let mut kept = 0usize;
        let mut out_starts = Vec::with_capacity(objects + 1);
        out_starts.push(0u32);
        for i in 0..objects {
            let (from, to) = (starts[i] as usize, starts[i + 1] as usize);
            at[from..to].sort_unstable();
            let mut last = None;
            for k in from..to {
                if last != Some(at[k]) {
                    last = Some(at[k]);
                    at[kept] = at[k];
                    kept += 1;
                }
            }
            out_starts.push(kept as u32);
        }
        at.truncate(kept);
        at.shrink_to_fit();
        Neighbours { starts: out_starts, at }
    }

    pub(crate) fn of(&self, position: u32) -> &[u32] {
        let i = position as usize;
        &self.at[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
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
        at
    }

    fn adjacency(&self) -> &Adjacency {
        self.adjacency.get_or_init(|| {
            let edges = self.recorded.iter().copied();
            Adjacency {
                needs: Neighbours::index(self.ids.len(), edges.clone()),
                needed_by: Neighbours::index(self.ids.len(), edges.map(|[a, b]| [b, a])),
            }
        })
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
        self.recorded.push([a, b]);
        self.adjacency.take();
    }

    /// Room for as many objects and edges as `other` holds, and a tenth more: a catalog read
    /// beside one of about its size (`schema/`'s beside the live database's) then grows no
    /// table by doubling, which holds the old table and the new at once, at a plan's peak.
    pub fn sized_like(other: &Dependencies) -> Dependencies {
        let more = |n: usize| n + n / 10;
        Dependencies {
            ids: Vec::with_capacity(more(other.ids.len())),
            index: FastMap::with_capacity_and_hasher(more(other.ids.len()), Default::default()),
            recorded: Vec::with_capacity(more(other.recorded.len())),
            ..Dependencies::default()
        }
    }

    /// Gives back what was reserved for edges still to come, and drops repeated edges, once
    /// all are in: a catalog's edges are read once and held through the plan (hundreds of
    /// thousands at 10,000 tables).
    pub fn shrink_to_fit(&mut self) {
        self.recorded.sort_unstable();
        self.recorded.dedup();
        self.recorded.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.index.shrink_to_fit();
    }

    /// The identity these edges keep for `object`, to be kept again rather than copied: a
    /// catalog read with another one at hand (the live database's, while `schema/` is read)
    /// shares the identities both name, 28 MB of the desired state's at 10,000 tables.
    pub fn identity(&self, object: &ObjectId) -> Option<&Arc<ObjectId>> {
        self.index.get_key_value(object).map(|(id, _)| id)
    }

    /// How many of these edges' identities are `other`'s very own (not equal copies).
    pub fn identities_shared_with(&self, other: &Dependencies) -> usize {
        self.ids
            .iter()
            .filter(|id| other.identity(id).is_some_and(|theirs| Arc::ptr_eq(id, theirs)))
            .count()
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
    fn sorted(&self, positions: &[u32]) -> Vec<&ObjectId> {
        let mut out: Vec<&ObjectId> = positions.iter().map(|&i| &*self.ids[i as usize]).collect();
        out.sort_unstable();
        out
    }

    /// What `object` needs, in order.
    pub fn of(&self, object: &ObjectId) -> Vec<&ObjectId> {
        let Some(&at) = self.index.get(object) else { return Vec::new() };
        self.sorted(self.adjacency().needs.of(at))
    }

    /// Whether `object` needs `target`.
    pub fn needs(&self, object: &ObjectId, target: &ObjectId) -> bool {
        let (Some(&a), Some(&b)) = (self.index.get(object), self.index.get(target)) else {
            return false;
        };
        self.adjacency().needs.of(a).binary_search(&b).is_ok()
    }

    /// What needs `object`, in order.
    pub fn dependents(&self, object: &ObjectId) -> Vec<&ObjectId> {
        let Some(&at) = self.index.get(object) else { return Vec::new() };
        self.sorted(self.adjacency().needed_by.of(at))
    }

    /// Every edge, `(object, what it needs)`, in order.
    pub fn edges(&self) -> impl Iterator<Item = (&ObjectId, &ObjectId)> {
        let needs = &self.adjacency().needs;
        let mut all: Vec<(&ObjectId, &ObjectId)> = (0..self.ids.len() as u32)
            .flat_map(|a| {
                needs.of(a).iter().map(move |&b| (&*self.ids[a as usize], &*self.ids[b as usize]))
            })
            .collect();
        all.sort_unstable();
        all.into_iter()
    }

    pub fn len(&self) -> usize {
        self.adjacency().needs.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> ObjectId {
        ObjectId::Table(crate::catalog::QualifiedName::new("public", name))
    }

    #[test]
    fn edges_are_indexed_once_each_and_again_after_an_edge_is_added() {
        let (a, b, c) = (table("a"), table("b"), table("c"));
        let mut deps = Dependencies::default();
        deps.add(&a, &b);
        deps.add(&a, &b);
        deps.add(&a, &a);
        deps.add(&c, &b);
        assert_eq!(deps.of(&a), [&b]);
        assert_eq!(deps.dependents(&b), [&a, &c]);
        assert_eq!(deps.len(), 2);
        // Asked once, then told more: the next answer has it.
        deps.add(&b, &c);
        assert!(deps.needs(&b, &c) && !deps.needs(&c, &a));
        assert_eq!(deps.of(&b), [&c]);
        assert_eq!(deps.dependents(&c), [&b]);
        let edges: Vec<_> = deps.edges().collect();
        assert_eq!(edges, [(&a, &b), (&b, &c), (&c, &b)]);
        assert!(deps.of(&table("missing")).is_empty());
    }
}
