//! Changes -> steps ordered on a petgraph DAG, each with its hazards.
//!
//! Edges come from what steps create, drop, alter, require and release (see `deps`); ties are
//! broken by (kind rank, object name) so the same inputs always give the same order.

mod deps;
mod hazards;
mod locks;
mod online;
pub mod renames;

use deps::Objects;
pub use deps::{Touches, touches};
pub use hazards::{Hazard, HazardCode, hazards_of};
pub use locks::{Lock, LockTable, lock_of, lock_table_note};
pub use online::Transaction;

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::catalog::{Catalog, FastMap, FastSet, Neighbours, ObjectId, QualifiedName};
use crate::diff::{Change, ColumnAction, diff};
use crate::error::{Error, Result};

/// One ordered unit of a migration.
#[derive(Debug, Clone)]
pub struct Step {
    pub change: Change,
    pub hazards: Vec<Hazard>,
    pub transaction: Transaction,
    /// Runs under the long statement timeout (it may read or write a whole table).
    pub long: bool,
    /// Its lock blocks no reads or writes (`CONCURRENTLY`, `VALIDATE`), so it may wait for
    /// its lock and for older transactions as long as the statement may run, not only
    /// `lock_timeout`.
    pub waits_harmlessly: bool,
}

/// The ordered steps that turn one catalog into another.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every hazard code the plan raises.
    pub fn hazard_codes(&self) -> BTreeSet<HazardCode> {
        self.steps.iter().flat_map(|s| s.hazards.iter().map(|h| h.code)).collect()
    }
}

/// Stops the plans whose `steps` raise hazards `allowed` does not list, naming each with its
/// reason, the statement it belongs to (`statement` gives a step's first) and the lock it
/// takes. The steps are borrowed: at 10,000 tables a plan's steps are tens of megabytes.
pub fn refuse_unallowed<'s>(
    steps: impl IntoIterator<Item = &'s Step>,
    allowed: &BTreeSet<HazardCode>,
    statement: impl Fn(&Step) -> String,
) -> Result<()> {
    let mut refused = Vec::new();
    let mut codes = BTreeSet::new();
    for step in steps {
        let hazards: Vec<&Hazard> =
            step.hazards.iter().filter(|h| !allowed.contains(&h.code)).collect();
        if hazards.is_empty() {
            continue;
        }
        codes.extend(hazards.iter().map(|h| h.code));
        refused.extend(hazards.iter().map(|h| format!("  {}: {}", h.code, h.reason)));
        let lock = lock_of(&step.change).map(|l| format!("  -- takes {l}")).unwrap_or_default();
        refused.push(format!("      {}{lock}", statement(step)));
    }
    if refused.is_empty() {
        return Ok(());
    }
    let codes: Vec<&str> = codes.into_iter().map(HazardCode::as_str).collect();
    Err(Error::HazardsNotAllowed { list: refused.join("\n"), codes: codes.join(",") })
}

/// Diffs `current` against `desired` and orders the changes.
pub fn plan(current: &Catalog, desired: &Catalog) -> Result<Plan> {
    plan_with(current, desired, &[])
}

/// `plan`, where `copies` are renamed columns in their expand phase (see `renames`).
#[tracing::instrument(skip_all)]
pub fn plan_with(
    current: &Catalog,
    desired: &Catalog,
    copies: &[renames::ColumnCopy],
) -> Result<Plan> {
    let changes = renames::copy_columns(diff(current, desired), current, desired, copies);
    let changes = online::go_online(changes, current, desired);
    let mut indexes_of: FastMap<&QualifiedName, Vec<ObjectId>> = FastMap::default();
    for i in current.indexes.values() {
        indexes_of.entry(&i.table).or_default().push(ObjectId::Index(i.name.clone()));
    }
    let mut objects = Objects::sharing([&current.depends, &desired.depends]);
    let touched = (changes.iter())
        .map(|c| {
            let t = touches(c).numbered(&mut objects);
            with_catalog_edges(t, current, desired, &indexes_of, &mut objects)
        })
        .collect();
    // What orders the steps is let go of before they are built: at 10,000 tables the
    // touches and their objects are a third of a plan from nothing.
    let ordered = order(&changes, touched, objects, desired)?;
    Ok(into_plan(changes, ordered))
}

/// Adds what the catalogs' dependency records say: a step that creates or changes an object
/// needs what the desired object needs; a step that drops or changes one lets go of what the
/// current object needed.
fn with_catalog_edges(
    mut t: Touches<u32>,
    current: &Catalog,
    desired: &Catalog,
    indexes_of: &FastMap<&QualifiedName, Vec<ObjectId>>,
    objects: &mut Objects<'_>,
) -> Touches<u32> {
    let own: FastSet<u32> = t.creates.iter().chain(&t.drops).copied().collect();
    let mut requires = Vec::new();
    let mut releases = Vec::new();
    for &id in t.creates.iter().chain(&t.alters) {
        requires.extend(desired.depends.of(objects.get(id)));
    }
    for &id in t.drops.iter().chain(&t.alters) {
        releases.extend(current.depends.of(objects.get(id)));
    }
    // Dropping a table drops its indexes, and so lets go of what they use (a function).
    for &id in &t.drops {
        let ObjectId::Table(table) = objects.get(id) else { continue };
        for index in indexes_of.get(table).into_iter().flatten() {
            releases.extend(current.depends.of(index));
        }
    }
    let mut number = |ids: Vec<&ObjectId>| -> Vec<u32> {
        let numbers = ids.into_iter().map(|id| objects.number(Cow::Borrowed(id)));
        numbers.filter(|n| !own.contains(n)).collect()
    };
    let (requires, releases) = (number(requires), number(releases));
    for r in requires {
        if !t.requires.contains(&r) {
            t.requires.push(r);
        }
    }
    for r in releases {
        if !t.releases.contains(&r) {
            t.releases.push(r);
        }
    }
    t
}

/// The soft edges (from PL/pgSQL bodies) of each step: creates after what the body names.
fn soft_requires(t: &Touches<u32>, desired: &Catalog, objects: &mut Objects) -> Vec<u32> {
    let named: Vec<&ObjectId> =
        t.creates.iter().flat_map(|&id| desired.soft_depends.of(objects.get(id))).collect();
    named.into_iter().map(|id| objects.number(Cow::Borrowed(id))).collect()
}

/// How early a kind of change goes when nothing else decides: drops first, then creates
/// from the outside in.
fn rank(change: &Change) -> u8 {
    match change {
        Change::AddEnumValue { .. } => 0,
        Change::DropIndex { .. } => 0,
        Change::DropConstraint { .. } => 1,
        Change::SetSequenceOwner { owner: None, .. } => 2,
        Change::DropColumn { .. } => 3,
        Change::DropTable { .. } => 4,
        Change::DropSequence(_) => 5,
        Change::DropEnum(_) => 6,
        Change::DropExtension(_) => 7,
        Change::DropSchema { .. } => 8,
        Change::CreateSchema(_) => 10,
        Change::CreateExtension(_) => 11,
        Change::AlterExtensionSchema { .. } | Change::UpdateExtension { .. } => 12,
        Change::CreateEnum(_) => 13,
        Change::RenameEnumValue { .. } => 14,
        Change::RecreateEnum { .. } => 15,
        Change::CreateSequence(_) => 16,
        Change::AlterSequence { .. } => 17,
        Change::CreateTable { .. } => 18,
        Change::Rename { .. } => 9,
        Change::AddColumn { .. } => 19,
        Change::Backfill { .. } => 27,
        Change::AlterColumn { .. } => 20,
        Change::SetSequenceOwner { .. } => 21,
        Change::AddConstraint { constraint, .. } => {
            if constraint.kind == crate::catalog::ConstraintKind::ForeignKey { 23 } else { 22 }
        }
        Change::CreateIndex { .. } | Change::ReplaceIndex { .. } => 24,
        Change::ProveNotNull { .. } => 22,
        Change::ValidateConstraint { .. } | Change::SetNotNullProven { .. } => 27,
        Change::DropObject(_) => 0,
        Change::SetRowSecurity { .. } => 22,
        Change::SetTableProperties { .. } => 23,
        Change::DetachPartition { .. } => 2,
        Change::AttachPartition { .. } | Change::SetInherits { .. } => 21,
        Change::CreateObject(_) | Change::ReplaceObject { .. } | Change::AlterObject { .. } => 24,
        Change::Comment { .. } => 25,
        Change::SetAccess { .. } => 26,
    }
}

/// The name a step sorts by among steps of its rank.
fn sort_name(t: &Touches<u32>, objects: &Objects<'_>) -> String {
    t.creates
        .first()
        .or(t.drops.first())
        .or(t.alters.first())
        .or(t.requires.first())
        .map(|&id| objects.get(id).to_string())
        .unwrap_or_default()
}

/// The order of the changes, topological with a stable tie-break. Soft edges are kept unless
/// they close a cycle.
fn order(
    changes: &[Change],
    touched: Vec<Touches<u32>>,
    mut objects: Objects<'_>,
    desired: &Catalog,
) -> Result<Vec<usize>> {
    let soft: Vec<Vec<u32>> =
        touched.iter().map(|t| soft_requires(t, desired, &mut objects)).collect();
    if soft.iter().any(|s| !s.is_empty())
        && let Some(order) = topological(changes, &touched, &soft, &objects)
    {
        return Ok(order);
    }
    topological(changes, &touched, &[], &objects)
        .ok_or_else(|| cycle_error(changes, &touched, &objects))
}

impl Plan {
    /// `changes` as steps in the order given, before the steps of `self`.
    pub fn after(self, changes: Vec<Change>) -> Plan {
        let mut steps: Vec<Step> = changes.into_iter().map(step_of).collect();
        steps.extend(self.steps);
        Plan { steps }
    }

    /// The steps of `self`, then `changes` in the order given.
    pub fn then(mut self, changes: Vec<Change>) -> Plan {
        self.steps.extend(changes.into_iter().map(step_of));
        self
    }
}

impl Plan {
    /// The plan with `TABLE_REWRITE` where PostgreSQL rewrote a table when it ran in the shadow
    /// (`rewritten`, measured by the tables' storage files) and nowhere else: the static
    /// classifier only guesses ahead of the measurement, which has the last word.
    pub fn with_measured_rewrites(mut self, rewritten: &BTreeSet<QualifiedName>) -> Plan {
        // The tables a step changes (a column's new default counts: the step that sets one
        // may also retype the column).
        let tables_of = |change: &Change| -> BTreeSet<QualifiedName> {
            let t = touches(change);
            let mut tables: BTreeSet<QualifiedName> = (t.alters.iter().chain(&t.creates))
                .chain(&t.drops)
                .filter_map(|id| match id {
                    ObjectId::Column(table, _)
                    | ObjectId::Table(table)
                    | ObjectId::Default(table, _) => Some(table.clone()),
                    _ => None,
                })
                .collect();
            if let Change::AlterColumn { table, .. } = change {
                tables.insert(table.clone());
            }
            tables
        };
        let mut raised = BTreeSet::new();
        // The first step (not a rename) on each rewritten table, found in one pass.
        let mut first_on: BTreeMap<QualifiedName, usize> = BTreeMap::new();
        for (i, step) in self.steps.iter_mut().enumerate() {
            let tables = tables_of(&step.change);
            if !matches!(step.change, Change::Rename { .. }) {
                for t in tables.iter().filter(|t| rewritten.contains(*t)) {
                    first_on.entry(t.clone()).or_insert(i);
                }
            }
            if !tables.iter().any(|t| rewritten.contains(t)) {
                step.hazards.retain(|h| h.code != HazardCode::TableRewrite);
            } else if step.hazards.iter().any(|h| h.code == HazardCode::TableRewrite) {
                raised.extend(tables.into_iter().filter(|t| rewritten.contains(t)));
            }
        }
        for table in rewritten.iter().filter(|t| !raised.contains(*t)) {
            if let Some(step) = first_on.get(table).map(|&i| &mut self.steps[i]) {
                step.hazards.push(Hazard {
                    code: HazardCode::TableRewrite,
                    reason: format!(
                        "PostgreSQL rewrote {table} when this ran in the shadow (its storage file changed): no query on it runs until the rewrite ends"
                    ),
                });
            }
        }
        for step in &mut self.steps {
            step.long = online::long(&step.change, &step.hazards);
        }
        self
    }
}

fn step_of(change: Change) -> Step {
    let hazards = hazards_of(&change);
    Step {
        transaction: online::transaction(&change),
        long: online::long(&change, &hazards),
        waits_harmlessly: online::waits_harmlessly(&change),
        hazards,
        change,
    }
}

/// The steps of `changes` in the order given (`ordered[k]` is the change that goes k-th),
/// moved in place: at 10,000 tables a plan from nothing is 60,000 changes.
fn into_plan(mut changes: Vec<Change>, mut ordered: Vec<usize>) -> Plan {
    // Each cycle of the permutation is followed once, the change of its first place carried
    // along it by swaps.
    const PLACED: usize = usize::MAX;
    for first in 0..ordered.len() {
        let mut at = first;
        while ordered[at] != PLACED {
            let from = std::mem::replace(&mut ordered[at], PLACED);
            if from == first {
                break;
            }
            changes.swap(at, from);
            at = from;
        }
    }
    say_once(&mut changes);
    Plan { steps: changes.into_iter().map(step_of).collect() }
}

/// A column's two steps (letting go of the old default, identity or type, then taking on the
/// new) that nothing came between are one step, and a default that is only replaced is one
/// `SET DEFAULT`, not a `DROP DEFAULT` before it.
fn say_once(ordered: &mut Vec<Change>) {
    ordered.dedup_by(|change, kept| {
        let (
            Change::AlterColumn { table: t1, to: c1, actions: lets_go, .. },
            Change::AlterColumn { table: t2, to: c2, actions: takes_on, .. },
        ) = (kept, change)
        else {
            return false;
        };
        if t1 != t2
            || c1.name != c2.name
            || lets_go.iter().any(ColumnAction::takes_on)
            || !takes_on.iter().all(ColumnAction::takes_on)
        {
            return false;
        }
        let retyped = lets_go.iter().any(|a| matches!(a, ColumnAction::SetType { .. }));
        let sets_default = takes_on.iter().any(|a| matches!(a, ColumnAction::SetDefault { .. }));
        if sets_default && !retyped {
            lets_go.retain(|a| *a != ColumnAction::DropDefault);
        }
        lets_go.append(takes_on);
        true
    });
}

/// The order of the steps, or `None` when they depend on each other in a cycle.
fn topological(
    changes: &[Change],
    touched: &[Touches<u32>],
    soft: &[Vec<u32>],
    objects: &Objects<'_>,
) -> Option<Vec<usize>> {
    let (graph, nodes, keys) = graph_of(changes, touched, soft, objects);
    let mut indegree: Vec<usize> =
        nodes.iter().map(|&n| graph.neighbors_directed(n, Direction::Incoming).count()).collect();
    let mut ready: BinaryHeap<Reverse<&(u64, String, usize)>> =
        keys.iter().filter(|k| indegree[k.2] == 0).map(Reverse).collect();
    let mut ordered = Vec::with_capacity(changes.len());
    while let Some(Reverse(key)) = ready.pop() {
        let i = key.2;
        ordered.push(i);
        for next in graph.neighbors_directed(nodes[i], Direction::Outgoing) {
            let j = graph[next];
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(Reverse(&keys[j]));
            }
        }
    }
    (ordered.len() == changes.len()).then_some(ordered)
}

/// Names the objects of the steps that stand in a cycle (those left when every step
/// without predecessors has been taken away).
fn cycle_error(changes: &[Change], touched: &[Touches<u32>], objects: &Objects<'_>) -> Error {
    let (graph, nodes, keys) = graph_of(changes, touched, &[], objects);
    let mut alive: Vec<bool> = vec![true; changes.len()];
    loop {
        let removable: Vec<usize> = (0..changes.len())
            .filter(|&i| {
                alive[i]
                    && (graph
                        .neighbors_directed(nodes[i], Direction::Incoming)
                        .all(|n| !alive[graph[n]])
                        || graph
                            .neighbors_directed(nodes[i], Direction::Outgoing)
                            .all(|n| !alive[graph[n]]))
            })
            .collect();
        if removable.is_empty() {
            break;
        }
        removable.into_iter().for_each(|i| alive[i] = false);
    }
    let stuck: Vec<&str> = keys.iter().filter(|k| alive[k.2]).map(|k| k.1.as_str()).collect();
    Error::Plan(format!(
        "cannot order the changes to {}: they depend on each other in a cycle that no \
         separate step breaks; change one of them in a migration of its own",
        stuck.join(", ")
    ))
}

/// A name in one of PostgreSQL's per-schema namespaces: relations (tables, views, sequences,
/// indexes, and the indexes behind keys) and types (every relation's row type too).
/// Borrowed from the plan's objects as (namespace, schema, name): at 10,000 tables a plan
/// from nothing takes 150,000 of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NameSlot<'o> {
    Relation(&'o str, &'o str),
    Type(&'o str, &'o str),
}

fn name_slots(id: &ObjectId) -> impl Iterator<Item = NameSlot<'_>> {
    let (relation, type_) = match id {
        ObjectId::Table(n) | ObjectId::View(n) | ObjectId::ForeignTable(n) | ObjectId::Type(n) => {
            (Some(n), Some(n))
        }
        ObjectId::Sequence(n) | ObjectId::Index(n) => (Some(n), None),
        ObjectId::Constraint(table, name) => {
            return [Some(NameSlot::Relation(&table.schema, name)), None].into_iter().flatten();
        }
        _ => (None, None),
    };
    let relation = relation.map(|n| NameSlot::Relation(&n.schema, &n.name));
    [relation, type_.map(|n| NameSlot::Type(&n.schema, &n.name))].into_iter().flatten()
}

type Graph = (DiGraph<usize, ()>, Vec<NodeIndex>, Vec<(u64, String, usize)>);

/// The steps' order graph: each step's `soft[i]` (when given) counts as what it requires.
fn graph_of(
    changes: &[Change],
    touched: &[Touches<u32>],
    soft: &[Vec<u32>],
    objects: &Objects<'_>,
) -> Graph {
    let edges = edges_of(changes, touched, soft, objects);
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(changes.len(), edges.len());
    let nodes: Vec<NodeIndex> = (0..changes.len()).map(|i| graph.add_node(i)).collect();
    for (from, to) in edges {
        graph.add_edge(nodes[from as usize], nodes[to as usize], ());
    }

    let keys: Vec<(u64, String, usize)> = changes
        .iter()
        .zip(touched)
        .enumerate()
        .map(|(i, (c, t))| {
            let name = sort_name(t, objects);
            match tiebreak_seed() {
                None => (u64::from(rank(c)), name, i),
                Some(seed) => (shuffled(seed, &name, i), name, i),
            }
        })
        .collect();
    (graph, nodes, keys)
}

/// The order graph's edges, `(before, after)` by step, each once. What finds them is let go
/// of before the graph is built (at 10,000 tables, as much as the graph itself).
fn edges_of(
    changes: &[Change],
    touched: &[Touches<u32>],
    soft: &[Vec<u32>],
    objects: &Objects<'_>,
) -> Vec<(u32, u32)> {
    // The steps that create, drop and alter each object: maps of vectors held 250,000
    // entries and as many allocations in a plan from nothing at 10,000 tables.
    let steps_by = |role: fn(&Touches<u32>) -> &Vec<u32>| {
        let named = touched
            .iter()
            .enumerate()
            .flat_map(move |(step, t)| role(t).iter().map(move |&object| [object, step as u32]));
        Neighbours::index(objects.len(), named)
    };
    let creators = steps_by(|t| &t.creates);
    let droppers = steps_by(|t| &t.drops);
    let alterers = steps_by(|t| &t.alters);
    // Edges are gathered, then sorted and told apart: `update_edge` looks through a node's
    // edges each time, and the step that makes a schema precedes every step in it (quadratic
    // at 10,000 tables); a set of the edges seen held 17 MB of a plan from nothing.
    let mut edges: Vec<(u32, u32)> = Vec::new();
    let mut edge = |from: usize, to: usize| {
        if from != to {
            edges.push((from as u32, to as u32));
        }
    };
    for (i, t) in touched.iter().enumerate() {
        let soft = soft.get(i).map_or(&[][..], Vec::as_slice);
        let requires = |o: &u32| t.requires.contains(o) || soft.contains(o);
        for &o in t.requires.iter().chain(soft) {
            // What a step needs is made, or changed, before it.
            creators.of(o).iter().chain(alterers.of(o)).for_each(|&c| edge(c as usize, i));
        }
        for &o in &t.releases {
            // Letting go of a reference comes before the object is dropped or changed.
            droppers.of(o).iter().for_each(|&d| edge(i, d as usize));
            if !requires(&o) {
                alterers.of(o).iter().for_each(|&a| edge(i, a as usize));
            }
        }
        for &o in &t.exists {
            creators.of(o).iter().for_each(|&c| edge(c as usize, i));
        }
        for &o in &t.detaches {
            droppers.of(o).iter().for_each(|&d| edge(i, d as usize));
        }
        for &o in &t.drops {
            // An object replaced under the same name is dropped first.
            creators.of(o).iter().for_each(|&c| edge(i, c as usize));
        }
    }
    // A name PostgreSQL keeps in one namespace for several kinds (a view replaced by a table,
    // a key's index by an index) is freed before it is taken.
    // Each slot taken, with the step that takes it, sorted to be looked up.
    let mut takers: Vec<(NameSlot, u32)> = (touched.iter().enumerate())
        .flat_map(|(i, t)| {
            let slots = t.creates.iter().flat_map(|&o| name_slots(objects.get(o)));
            slots.map(move |slot| (slot, i as u32))
        })
        .collect();
    takers.sort_unstable();
    for (i, t) in touched.iter().enumerate() {
        for slot in t.drops.iter().flat_map(|&o| name_slots(objects.get(o))) {
            let from = takers.partition_point(|(s, _)| *s < slot);
            for &(_, c) in takers[from..].iter().take_while(|(s, _)| *s == slot) {
                edge(i, c as usize);
            }
        }
    }
    // Values added to an enum are committed before anything else runs (they run outside the
    // file's transaction), so their steps come before every other.
    let (first, rest): (Vec<usize>, Vec<usize>) =
        (0..changes.len()).partition(|&i| matches!(changes[i], Change::AddEnumValue { .. }));
    for &f in &first {
        for &r in &rest {
            edge(f, r);
        }
    }
    edges.sort_unstable();
    edges.dedup();
    edges.shrink_to_fit();
    edges
}

/// `SCHEMADIFF_TIEBREAK_SEED`, a test hook: with it the tie-break between steps that no edge
/// orders is a seeded shuffle instead of (rank, name), so a test can show that every order
/// PostgreSQL needs comes from an edge.
fn tiebreak_seed() -> Option<u64> {
    static SEED: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| std::env::var("SCHEMADIFF_TIEBREAK_SEED").ok()?.parse().ok())
}

fn shuffled(seed: u64, name: &str, i: usize) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    (seed, name, i).hash(&mut h);
    h.finish()
}
