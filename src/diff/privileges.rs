//! Owners and privileges: every object's brought to the desired ones in one step, whatever
//! its kind. An object the plan creates (or creates again) starts from PostgreSQL's defaults
//! rather than from what the current one had.

use std::collections::BTreeSet;

use super::Change;
use crate::catalog::{Access, Catalog, Grants, Name, ObjectId, Privilege};

/// Objects that the changes make anew, with default ownership and privileges.
fn fresh(changes: &[Change]) -> BTreeSet<ObjectId> {
    let mut out = BTreeSet::new();
    for c in changes {
        match c {
            Change::CreateSchema(s) => {
                out.insert(ObjectId::Schema(Name::from(&s.name)));
            }
            Change::CreateEnum(e) => {
                out.insert(ObjectId::Type(e.name.clone()));
            }
            Change::RecreateEnum { to, .. } => {
                out.insert(ObjectId::Type(to.name.clone()));
            }
            Change::CreateSequence(s) => {
                out.insert(ObjectId::Sequence(s.name.clone()));
            }
            Change::CreateTable { table: t, .. } => {
                out.insert(ObjectId::Table(t.name.clone()));
                out.extend(
                    t.columns.iter().map(|c| ObjectId::Column(t.name.clone(), c.name.clone())),
                );
            }
            Change::AddColumn { table, column, .. } => {
                out.insert(ObjectId::Column(table.clone(), column.name.clone()));
            }
            Change::CreateObject(o) => {
                out.insert(o.id());
            }
            _ => {}
        }
    }
    out
}

/// What a fresh object may hold already when its `GRANT`s run: PostgreSQL's defaults and
/// whatever defaults for its kind the desired state sets (they apply when the migration
/// sets them before it creates the object). Revoking what is not held does nothing, so
/// revoking from this is right in either order.
fn may_hold(id: &ObjectId, keyword: &str, defaults: &[DefaultGrants<'_>]) -> Grants {
    let mut out = Access::default_grants(id, keyword);
    let kind = match keyword {
        "TABLE" | "VIEW" | "MATERIALIZED VIEW" | "FOREIGN TABLE" => "TABLES",
        "SERVER" => return out,
        "SEQUENCE" => "SEQUENCES",
        "FUNCTION" | "PROCEDURE" | "AGGREGATE" => "FUNCTIONS",
        "TYPE" | "DOMAIN" => "TYPES",
        "SCHEMA" => "SCHEMAS",
        _ => return out,
    };
    for &(schema, on, grants) in defaults {
        if on == kind && (schema.is_none() || schema.as_deref() == id.schema()) {
            out.extend(grants.iter().map(|(p, g)| (p.clone(), *g)));
        }
    }
    out
}

/// A default privileges entry of the desired state (`ALTER DEFAULT PRIVILEGES` of the role
/// that runs the migration): its schema, if any, the kind it is for and its grants.
type DefaultGrants<'a> = (&'a Option<Name>, &'a str, &'a Grants);

/// The desired state's default privileges, gathered once: each fresh object looks through
/// them, and a plan from nothing makes every object fresh (tens of thousands of objects,
/// each scanning tens of thousands of entries, in a large schema).
fn default_grants(desired: &Catalog) -> Vec<DefaultGrants<'_>> {
    (desired.access.iter())
        .filter_map(|(d, a)| match d {
            ObjectId::DefaultPrivileges { role: None, schema, on } => {
                Some((schema, on.as_str(), &a.grants))
            }
            _ => None,
        })
        .collect()
}

/// Whether the object `id` names is still there in `desired`.
fn kept(id: &ObjectId, desired: &Catalog) -> bool {
    match id {
        ObjectId::Column(table, column) => {
            desired.tables.get(table).is_some_and(|t| t.column(column).is_some())
        }
        ObjectId::DefaultPrivileges { schema, .. } => {
            schema.as_ref().is_none_or(|s| desired.schemas.contains_key(s.as_str()))
        }
        _ => desired.access.contains_key(id),
    }
}

pub(super) fn diff(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let fresh = fresh(out);
    let defaults = default_grants(desired);
    let ids: BTreeSet<&ObjectId> = (desired.access.keys())
        .chain(current.access.keys().filter(|id| kept(id, desired)))
        .collect();
    for id in ids {
        let want = desired.access.get(id);
        let have = current.access.get(id).filter(|_| !fresh.contains(id));
        let Some(keyword) = want.or(have).map(|a| a.keyword.clone()) else { continue };
        let implied = || Access::default_grants(id, &keyword);
        let want_grants = want.map_or_else(implied, |a| a.grants.clone());
        let (held, may) = match have {
            Some(a) => (a.grants.clone(), a.grants.clone()),
            None if fresh.contains(id) => (implied(), may_hold(id, &keyword, &defaults)),
            None => (implied(), implied()),
        };
        let mut revoke = Vec::new();
        for (p, &option) in &may {
            match want_grants.get(p) {
                None => revoke.push((p.clone(), false)),
                Some(false) if option => revoke.push((p.clone(), true)),
                _ => {}
            }
        }
        let grant: Vec<(Privilege, bool)> = (want_grants.iter())
            .filter(|(p, g)| held.get(*p).is_none_or(|h| **g && !h))
            .map(|(p, g)| (p.clone(), *g))
            .collect();
        let want_owner = want.and_then(|a| a.owner.clone());
        let have_owner = have.and_then(|a| a.owner.clone());
        let owner = (want_owner != have_owner && keyword != "COLUMN").then_some(want_owner);
        if owner.is_some() || !revoke.is_empty() || !grant.is_empty() {
            out.push(Change::SetAccess { id: id.clone(), keyword, owner, revoke, grant });
        }
    }
}
