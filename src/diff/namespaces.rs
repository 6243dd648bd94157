//! Schemas and extensions.

use super::{Change, CommentTarget, pair};
use crate::catalog::Catalog;

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (removed, kept, added) = pair(&current.schemas, &desired.schemas);
    for s in removed {
        let tables = current.tables.keys().filter(|t| t.schema == s.name).count();
        out.push(Change::DropSchema { schema: s.clone(), tables });
    }
    for s in added {
        out.push(Change::CreateSchema(s.clone()));
        if s.comment.is_some() {
            let target = CommentTarget::Schema(s.name.clone());
            out.push(Change::Comment { target, comment: s.comment.clone() });
        }
    }
    for (a, b) in kept {
        if a.comment != b.comment {
            let target = CommentTarget::Schema(b.name.clone());
            out.push(Change::Comment { target, comment: b.comment.clone() });
        }
    }

    let (removed, kept, added) = pair(&current.extensions, &desired.extensions);
    out.extend(removed.into_iter().map(|e| Change::DropExtension(e.clone())));
    out.extend(added.into_iter().map(|e| Change::CreateExtension(e.clone())));
    for (a, b) in kept {
        if a.schema != b.schema {
            out.push(Change::AlterExtensionSchema {
                name: b.name.clone(),
                schema: b.schema.clone(),
                previous: a.schema.clone(),
            });
        }
        if b.pinned && a.version != b.version {
            out.push(Change::UpdateExtension {
                name: b.name.clone(),
                from: a.version.clone(),
                to: b.version.clone(),
            });
        }
    }
}
