//! Indexes that do not back a constraint.

use super::{Change, pair};
use crate::catalog::Catalog;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (removed, kept, added) = pair(&current.indexes, &desired.indexes);
    for i in removed {
        // Dropping the table drops its indexes.
        if desired.tables.contains_key(&i.table) {
            out.push(Change::DropIndex(i.clone()));
        }
    }
    for (a, b) in kept {
        if a.definition != b.definition {
            if desired.tables.contains_key(&a.table) && current.tables.contains_key(&a.table) {
                out.push(Change::DropIndex(a.clone()));
            }
            out.push(Change::CreateIndex(b.clone()));
        }
    }
    out.extend(added.into_iter().map(|i| Change::CreateIndex(i.clone())));
}
