//! Enum types: create, drop, add a value; anything else recreates the type.

use super::{Change, CommentTarget, EnumColumn, pair};
use crate::catalog::{Catalog, Column, EnumType, FastMap, ObjectId, Table};

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let (removed, kept, added) = pair(&current.enums, &desired.enums);
    out.extend(removed.into_iter().map(|e| Change::DropEnum(e.clone())));
    for e in added {
        out.push(Change::CreateEnum(e.clone()));
        if e.comment.is_some() {
            let target = CommentTarget::Type(e.name.clone());
            out.push(Change::Comment { target, comment: e.comment.clone() });
        }
    }
    // What each type's columns are, found once: a scan of every column per recreated type
    // grew with the square of the schema.
    let mut users: Option<FastMap<&ObjectId, Vec<(&Table, &Column)>>> = None;
    for (a, b) in kept {
        if let Some(renames) = renames(&a.labels, &b.labels) {
            for (from, to) in renames {
                out.push(Change::RenameEnumValue { name: b.name.clone(), from, to });
            }
        } else if a.labels != b.labels {
            match insertions(&a.labels, &b.labels) {
                Some(values) => {
                    for (value, before, after) in values {
                        out.push(Change::AddEnumValue {
                            name: b.name.clone(),
                            value,
                            before,
                            after,
                        });
                    }
                }
                None => out.push(Change::RecreateEnum {
                    from: a.clone(),
                    to: b.clone(),
                    columns: columns_using(
                        a,
                        users.get_or_insert_with(|| users_of(current)),
                        desired,
                    ),
                }),
            }
        }
        if a.comment != b.comment {
            let target = CommentTarget::Type(b.name.clone());
            out.push(Change::Comment { target, comment: b.comment.clone() });
        }
    }
}

/// Labels renamed in place: the same number of labels, and each that differs is one `from`
/// alone had, at the position of one `to` alone has. `RENAME VALUE` keeps the rows that hold
/// it, where recreating the type would fail on them.
fn renames(from: &[String], to: &[String]) -> Option<Vec<(String, String)>> {
    if from.len() != to.len() || from == to {
        return None;
    }
    let mut out = Vec::new();
    for (a, b) in from.iter().zip(to) {
        if a != b {
            if to.contains(a) || from.contains(b) {
                return None;
            }
            out.push((a.clone(), b.clone()));
        }
    }
    Some(out)
}

/// The values to add, each before the next existing label, when `to` only inserts into `from`.
type Insertion = (String, Option<String>, Option<String>);

/// The labels to add, each with the existing label it goes before, else the one it goes after
/// (added just before it, or existing).
fn insertions(from: &[String], to: &[String]) -> Option<Vec<Insertion>> {
    let kept: Vec<&String> = to.iter().filter(|l| from.contains(l)).collect();
    if kept.len() != from.len() || kept.iter().zip(from).any(|(a, b)| *a != b) {
        return None;
    }
    let mut out = Vec::new();
    for (i, label) in to.iter().enumerate() {
        if !from.contains(label) {
            // Anchor on the next label that exists already, else append.
            let before = to[i + 1..].iter().find(|l| from.contains(l)).cloned();
            let after = if before.is_none() && i > 0 { Some(to[i - 1].clone()) } else { None };
            out.push((label.clone(), before, after));
        }
    }
    Some(out)
}

/// Columns that use the enum in both catalogs; the others change type (or go) on their own.
fn columns_using(
    e: &EnumType,
    users: &FastMap<&ObjectId, Vec<(&Table, &Column)>>,
    desired: &Catalog,
) -> Vec<EnumColumn> {
    let id = ObjectId::Type(e.name.clone());
    let mut out = Vec::new();
    for &(t, c) in users.get(&id).into_iter().flatten() {
        let after = desired.tables.get(&t.name).and_then(|d| d.column(&c.name));
        if !after.is_some_and(|a| a.depends_on.contains(&id) && a.type_sql == c.type_sql) {
            continue;
        }
        out.push(EnumColumn {
            table: t.name.clone(),
            column: c.name.to_string(),
            type_sql: c.type_sql.to_string(),
            default_before: c.default.clone(),
            default_after: after.and_then(|a| a.default.clone()),
        });
    }
    out
}

/// The columns of `catalog`'s tables by each object they depend on, in table and column order.
fn users_of(catalog: &Catalog) -> FastMap<&ObjectId, Vec<(&Table, &Column)>> {
    let mut users: FastMap<&ObjectId, Vec<(&Table, &Column)>> = FastMap::default();
    for t in catalog.tables.values() {
        for c in t.columns.iter() {
            for id in &c.depends_on {
                let columns = users.entry(id).or_default();
                if !columns.last().is_some_and(|&(_, last)| std::ptr::eq(last, c)) {
                    columns.push((t, c));
                }
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::{insertions, renames};

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn added_labels_anchor_on_the_next_existing_one_else_the_one_before() {
        let got = insertions(&v(&["a", "c"]), &v(&["a", "b", "c", "d", "e"])).unwrap();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            got,
            vec![
                ("b".to_string(), s("c"), None),
                ("d".to_string(), None, s("c")),
                ("e".to_string(), None, s("d")),
            ]
        );
    }

    #[test]
    fn a_label_replaced_in_its_place_is_a_rename() {
        let got = renames(&v(&["new", "open", "closed"]), &v(&["new", "active", "closed"]));
        assert_eq!(got, Some(vec![("open".to_string(), "active".to_string())]));
        assert_eq!(renames(&v(&["a", "b"]), &v(&["b", "a"])), None);
        assert_eq!(renames(&v(&["a", "b"]), &v(&["a", "b", "c"])), None);
    }

    #[test]
    fn removed_or_reordered_labels_are_not_insertions() {
        assert!(insertions(&v(&["a", "b"]), &v(&["a"])).is_none());
        assert!(insertions(&v(&["a", "b"]), &v(&["b", "a"])).is_none());
    }
}
