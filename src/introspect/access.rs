//! Owners and privileges (`privileges.sql`, `default_privileges.sql`) into `Catalog.access`,
//! each row resolved to its object through the OIDs the kinds registered.

use tokio_postgres::Row;

use super::dependencies::Oids;
use crate::catalog::{Access, Grants, ObjectId, Privilege};

fn grants(r: &Row, from: usize) -> Grants {
    let grantees: Vec<String> = r.get(from);
    let privileges: Vec<String> = r.get(from + 1);
    let grantable: Vec<bool> = r.get(from + 2);
    (grantees.into_iter().zip(privileges))
        .zip(grantable)
        .map(|((grantee, privilege), g)| (Privilege { grantee, privilege }, g))
        .collect()
}

/// Whether `id` is what a row of that keyword describes (an identity sequence's OID stands
/// for its column, a view column's for the view: neither has privileges of its own here).
fn fits(keyword: &str, id: &ObjectId) -> bool {
    match keyword {
        "SCHEMA" => matches!(id, ObjectId::Schema(_)),
        "TABLE" => matches!(id, ObjectId::Table(_)),
        "FOREIGN TABLE" => matches!(id, ObjectId::ForeignTable(_)),
        "SERVER" => matches!(id, ObjectId::Server(_)),
        "VIEW" | "MATERIALIZED VIEW" => matches!(id, ObjectId::View(_)),
        "SEQUENCE" => matches!(id, ObjectId::Sequence(_)),
        "COLUMN" => matches!(id, ObjectId::Column(..)),
        "FUNCTION" | "PROCEDURE" | "AGGREGATE" => matches!(id, ObjectId::Function(..)),
        "TYPE" | "DOMAIN" => matches!(id, ObjectId::Type(_)),
        "COLLATION" => matches!(id, ObjectId::Collation(_)),
        "OPERATOR" => matches!(id, ObjectId::Operator(..)),
        _ => false,
    }
}

/// One `privileges.sql` row, when it is about a managed object.
pub fn object(r: &Row, oids: &Oids) -> Option<(ObjectId, Access)> {
    let keyword: String = r.get(3);
    let id = oids.exact((r.get(0), r.get(1), r.get(2)))?.clone();
    if !fits(&keyword, &id) {
        return None;
    }
    let owner = if keyword == "COLUMN" { None } else { r.get(4) };
    let access = Access { keyword, owner, grants: grants(r, 5) };
    (!access.is_implied(&id)).then_some((id, access))
}

/// One `default_privileges.sql` row, unless it says no more than PostgreSQL's defaults.
pub fn defaults(r: &Row) -> Option<(ObjectId, Access)> {
    let keyword: String = r.get(2);
    let id = ObjectId::DefaultPrivileges { role: r.get(0), schema: r.get(1), on: keyword.clone() };
    let access = Access { keyword, owner: None, grants: grants(r, 3) };
    (!access.is_implied(&id)).then_some((id, access))
}
