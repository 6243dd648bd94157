//! Sequences that are not identity columns'.

use super::{Change, CommentTarget, dropped_with_owner, pair};
use crate::catalog::{Catalog, Sequence};

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (removed, kept, added) = pair(&current.sequences, &desired.sequences);
    for s in removed {
        // DROP SEQUENCE takes an owned sequence too, once no default uses it.
        if !dropped_with_owner(s, desired) {
            out.push(Change::DropSequence(s.clone()));
        }
    }
    for s in added {
        let mut created = s.clone();
        created.owned_by = None;
        out.push(Change::CreateSequence(created));
        comment(None, s, out);
        if s.owned_by.is_some() {
            out.push(Change::SetSequenceOwner {
                name: s.name.clone(),
                owner: s.owned_by.clone(),
                previous: None,
            });
        }
    }
    for (a, b) in kept {
        comment(Some(a), b, out);
        if a.options != b.options {
            out.push(Change::AlterSequence {
                name: b.name.clone(),
                from: a.options.clone(),
                to: b.options.clone(),
            });
        }
        if a.owned_by != b.owned_by {
            // A sequence whose owner goes (a table replaced by one of another name that keeps
            // using it) is let go before the owner is dropped, and owned again once the new
            // owner exists: one step could not stand between the two.
            if b.owned_by.is_some() && dropped_with_owner(a, desired) {
                out.push(Change::SetSequenceOwner {
                    name: b.name.clone(),
                    owner: None,
                    previous: a.owned_by.clone(),
                });
                out.push(Change::SetSequenceOwner {
                    name: b.name.clone(),
                    owner: b.owned_by.clone(),
                    previous: None,
                });
                continue;
            }
            out.push(Change::SetSequenceOwner {
                name: b.name.clone(),
                owner: b.owned_by.clone(),
                previous: a.owned_by.clone(),
            });
        }
    }
}

fn comment(from: Option<&Sequence>, to: &Sequence, out: &mut Vec<Change>) {
    if from.map_or(&None, |f| &f.comment) != &to.comment {
        let target = CommentTarget::Sequence(to.name.clone());
        out.push(Change::Comment { target, comment: to.comment.clone() });
    }
}
