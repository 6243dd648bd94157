//! Indexes that do not back a constraint.

use super::{Change, CommentTarget, pair};
use crate::catalog::{Catalog, Index};

fn comment_on(i: &Index) -> Change {
    Change::Comment { target: CommentTarget::Index(i.name.clone()), comment: i.comment.clone() }
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (removed, kept, added) = pair(&current.indexes, &desired.indexes);
    for i in removed {
        // Dropping the table drops its indexes.
        if desired.has_relation(&i.table) {
            out.push(Change::drop_index(i));
        }
    }
    for (a, b) in kept {
        if std::sync::Arc::ptr_eq(a, b) {
            continue;
        }
        // An invalid index (a failed concurrent build) is built again.
        if a.definition != b.definition || (!a.valid && b.valid) {
            if desired.has_relation(&a.table) && current.has_relation(&a.table) {
                out.push(Change::drop_index(a));
            }
            out.push(Change::create_index(b));
            if b.comment.is_some() {
                out.push(comment_on(b));
            }
        } else if a.comment != b.comment {
            out.push(comment_on(b));
        }
    }
    for i in added {
        out.push(Change::create_index(i));
        if i.comment.is_some() {
            out.push(comment_on(i));
        }
    }
}
