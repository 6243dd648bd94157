//! Changes -> steps ordered on a petgraph DAG, each with its hazards.
//!
//! Edges come from what steps create, drop, alter, require and release (see `deps`); ties are
//! broken by (kind rank, object name) so the same inputs always give the same order.

mod deps;
mod hazards;

pub use deps::{Touches, touches};
pub use hazards::{Hazard, HazardCode, hazards_of};

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::catalog::{Catalog, ObjectId};
use crate::diff::{Change, diff};
use crate::error::{Error, Result};

/// One ordered unit of a migration.
#[derive(Debug, Clone)]
pub struct Step {
    pub change: Change,
    pub hazards: Vec<Hazard>,
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

/// Diffs `current` against `desired` and orders the changes.
pub fn plan(current: &Catalog, desired: &Catalog) -> Result<Plan> {
    order(diff(current, desired))
}

/// How early a kind of change goes when nothing else decides: drops first, then creates
/// from the outside in.
fn rank(change: &Change) -> u8 {
    match change {
        Change::AddEnumValue { .. } => 0,
        Change::DropIndex(_) => 0,
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
        Change::AlterExtensionSchema { .. } => 12,
        Change::CreateEnum(_) => 13,
        Change::RecreateEnum { .. } => 15,
        Change::CreateSequence(_) => 16,
        Change::AlterSequence { .. } => 17,
        Change::CreateTable(_) => 18,
        Change::AddColumn { .. } => 19,
        Change::AlterColumn { .. } => 20,
        Change::SetSequenceOwner { .. } => 21,
        Change::AddConstraint { constraint, .. } => {
            if constraint.kind == crate::catalog::ConstraintKind::ForeignKey { 23 } else { 22 }
        }
        Change::CreateIndex(_) => 24,
        Change::Comment { .. } => 25,
    }
}

/// The name a step sorts by among steps of its rank.
fn sort_name(t: &Touches) -> String {
    t.creates
        .first()
        .or(t.drops.first())
        .or(t.alters.first())
        .or(t.requires.first())
        .map(ObjectId::to_string)
        .unwrap_or_default()
}

/// Orders changes topologically with a stable tie-break.
pub fn order(changes: Vec<Change>) -> Result<Plan> {
    let touched: Vec<Touches> = changes.iter().map(touches).collect();
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..changes.len()).map(|i| graph.add_node(i)).collect();

    let mut creators: HashMap<&ObjectId, Vec<usize>> = HashMap::new();
    let mut droppers: HashMap<&ObjectId, Vec<usize>> = HashMap::new();
    let mut alterers: HashMap<&ObjectId, Vec<usize>> = HashMap::new();
    for (i, t) in touched.iter().enumerate() {
        t.creates.iter().for_each(|o| creators.entry(o).or_default().push(i));
        t.drops.iter().for_each(|o| droppers.entry(o).or_default().push(i));
        t.alters.iter().for_each(|o| alterers.entry(o).or_default().push(i));
    }
    let mut edge = |from: usize, to: usize| {
        if from != to {
            graph.update_edge(nodes[from], nodes[to], ());
        }
    };
    let none = Vec::new();
    for (i, t) in touched.iter().enumerate() {
        for o in &t.requires {
            // What a step needs is made, or changed, before it.
            for &c in creators.get(o).unwrap_or(&none) {
                edge(c, i);
            }
            for &a in alterers.get(o).unwrap_or(&none) {
                edge(a, i);
            }
        }
        for o in &t.releases {
            // Letting go of a reference comes before the object is dropped or changed.
            for &d in droppers.get(o).unwrap_or(&none) {
                edge(i, d);
            }
            if !t.requires.contains(o) {
                for &a in alterers.get(o).unwrap_or(&none) {
                    edge(i, a);
                }
            }
        }
        for o in &t.detaches {
            for &d in droppers.get(o).unwrap_or(&none) {
                edge(i, d);
            }
        }
        for o in &t.drops {
            // An object replaced under the same name is dropped first.
            for &c in creators.get(o).unwrap_or(&none) {
                edge(i, c);
            }
        }
    }

    let keys: Vec<(u8, String, usize)> = changes
        .iter()
        .zip(&touched)
        .enumerate()
        .map(|(i, (c, t))| (rank(c), sort_name(t), i))
        .collect();
    let mut indegree: Vec<usize> =
        nodes.iter().map(|&n| graph.neighbors_directed(n, Direction::Incoming).count()).collect();
    let mut ready: BinaryHeap<Reverse<&(u8, String, usize)>> =
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
    // A cycle is a bug in the dependency rules, not in the user's schema: say which steps.
    if ordered.len() < changes.len() {
        let stuck: Vec<&str> =
            keys.iter().filter(|k| !ordered.contains(&k.2)).map(|k| k.1.as_str()).collect();
        return Err(Error::Plan(format!(
            "cannot order the changes to {}: they depend on each other in a cycle. This is a \
             schemadiff bug; please report it with the schema change that caused it",
            stuck.join(", ")
        )));
    }

    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    let steps = ordered
        .into_iter()
        .map(|i| {
            let change = slots[i].take().expect("each step is placed once");
            Step { hazards: hazards_of(&change), change }
        })
        .collect();
    Ok(Plan { steps })
}
