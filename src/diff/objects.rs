//! The definition kinds (views, routines, triggers, policies, domains, composite types):
//! paired by identity, and changed in place when PostgreSQL allows it, else dropped and
//! created again (their dependents with them: see `rebuild_dependents`).

use std::sync::Arc;

use super::{Change, CommentTarget, pair};
use crate::catalog::{Catalog, EventTrigger, Object};

/// How one object turns into its desired version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    Same,
    /// `CREATE OR REPLACE`.
    Replace,
    /// Kind-specific `ALTER` statements.
    Alter,
    /// Drop and create again.
    Recreate,
}

/// What it takes to turn `a` into `b` (comments aside).
pub fn delta(a: &Object, b: &Object) -> Delta {
    if a.without_comment() == b.without_comment() {
        return Delta::Same;
    }
    match (a, b) {
        (Object::View(x), Object::View(y)) if x.replaceable_by(y) => Delta::Replace,
        (Object::Function(x), Object::Function(y)) if x.replaceable_by(y) => Delta::Replace,
        (Object::Trigger(x), Object::Trigger(y)) if x.definition == y.definition => Delta::Alter,
        (Object::Policy(x), Object::Policy(y)) if x.alterable_to(y) => Delta::Alter,
        (Object::Domain(x), Object::Domain(y))
            if x.base_type == y.base_type && x.collation == y.collation =>
        {
            Delta::Alter
        }
        (Object::Composite(x), Object::Composite(y)) if x.alterable_to(y) => Delta::Alter,
        (Object::Rule(_), Object::Rule(_)) => Delta::Replace,
        (Object::Server(x), Object::Server(y))
            if x.wrapper == y.wrapper
                && x.server_type == y.server_type
                && (x.version == y.version || y.version.is_some()) =>
        {
            Delta::Alter
        }
        (Object::EventTrigger(x), Object::EventTrigger(y))
            if EventTrigger { enabled: y.enabled.clone(), ..x.clone() } == *y =>
        {
            Delta::Alter
        }
        _ => Delta::Recreate,
    }
}

pub fn comment_on(o: &Object) -> Change {
    Change::Comment {
        target: CommentTarget::Object { id: o.id(), kind: o.kind() },
        comment: o.comment().cloned(),
    }
}

/// `CREATE` with its comments.
pub fn create(o: &Arc<Object>, out: &mut Vec<Change>) {
    out.push(Change::CreateObject(Arc::clone(o)));
    comments(None, o, out);
}

/// The comments of `to` (on it and on its columns) that `from` lacks or has otherwise.
fn comments(from: Option<&Object>, to: &Object, out: &mut Vec<Change>) {
    if from.map_or(to.comment().is_some(), |f| f.comment() != to.comment()) {
        out.push(comment_on(to));
    }
    let none = Default::default();
    let (old, new) = (
        from.and_then(Object::column_comments).unwrap_or(&none),
        to.column_comments().unwrap_or(&none),
    );
    let columns: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for column in columns {
        if old.get(column) != new.get(column) {
            out.push(Change::Comment {
                target: CommentTarget::Column(to.name(), column.clone()),
                comment: new.get(column).cloned(),
            });
        }
    }
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (removed, kept, added) = pair(&current.objects, &desired.objects);
    for o in removed {
        // A trigger, policy or rule of a dropped table goes with it (`Change::DropTable`).
        if !super::tables::goes_with_table(o, current, desired) {
            out.push(Change::DropObject(Arc::clone(o)));
        }
    }
    for o in added {
        create(o, out);
    }
    for (a, b) in kept {
        // One object that both catalogs hold (read side by side) has nothing to change.
        if Arc::ptr_eq(a, b) {
            continue;
        }
        match delta(a, b) {
            Delta::Same => {}
            Delta::Replace => {
                out.push(Change::ReplaceObject { from: Arc::clone(a), to: Arc::clone(b) })
            }
            Delta::Alter => {
                out.push(Change::AlterObject { from: Arc::clone(a), to: Arc::clone(b) })
            }
            Delta::Recreate => {
                out.push(Change::DropObject(Arc::clone(a)));
                create(b, out);
                continue;
            }
        }
        comments(Some(a), b, out);
    }
}
