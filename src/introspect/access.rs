//! Owners and privileges (`privileges.sql`, `default_privileges.sql`) into `Catalog.access`,
//! each row resolved to its object through the OIDs the kinds registered.

use super::rows::CatalogRow;

use super::dependencies::{Address, Oids};
use crate::catalog::{Access, Grants, ObjectId, Privilege};

fn grants(r: &CatalogRow, from: usize) -> Grants {
    let grantees: Vec<String> = r.get(from);
    let privileges: Vec<String> = r.get(from + 1);
    let grantable: Vec<bool> = r.get(from + 2);
    (grantees.into_iter().zip(privileges))
        .zip(grantable)
        .map(|((grantee, privilege), g)| (Privilege { grantee, privilege }, g))
        .collect()
}

/// Whether an object is of one kind.
type IsKind = fn(&ObjectId) -> bool;

/// Each keyword `privileges.sql` gives a row, with the kind of object it describes (an
/// identity sequence's OID stands for its column, a view column's for the view: neither has
/// privileges of its own here).
const KINDS: [(&str, IsKind); 15] = [
    ("SCHEMA", |id| matches!(id, ObjectId::Schema(_))),
    ("TABLE", |id| matches!(id, ObjectId::Table(_))),
    ("FOREIGN TABLE", |id| matches!(id, ObjectId::ForeignTable(_))),
    ("SERVER", |id| matches!(id, ObjectId::Server(_))),
    ("VIEW", |id| matches!(id, ObjectId::View(_))),
    ("MATERIALIZED VIEW", |id| matches!(id, ObjectId::View(_))),
    ("SEQUENCE", |id| matches!(id, ObjectId::Sequence(_))),
    ("COLUMN", |id| matches!(id, ObjectId::Column(..))),
    ("FUNCTION", |id| matches!(id, ObjectId::Function(..))),
    ("PROCEDURE", |id| matches!(id, ObjectId::Function(..))),
    ("AGGREGATE", |id| matches!(id, ObjectId::Function(..))),
    ("TYPE", |id| matches!(id, ObjectId::Type(_))),
    ("DOMAIN", |id| matches!(id, ObjectId::Type(_))),
    ("COLLATION", |id| matches!(id, ObjectId::Collation(_))),
    ("OPERATOR", |id| matches!(id, ObjectId::Operator(..))),
];

/// Whether `id` is what a row of that keyword describes.
fn fits(keyword: &str, id: &ObjectId) -> bool {
    KINDS.iter().any(|(k, is)| *k == keyword && is(id))
}

/// Whether a `privileges.sql` row can describe `id` at all.
pub fn may_have_privileges(id: &ObjectId) -> bool {
    KINDS.iter().any(|(_, is)| is(id))
}

/// One `privileges.sql` row, when it is about a managed object.
pub fn object(r: &CatalogRow, oids: &Oids) -> Option<(ObjectId, Access)> {
    let keyword: String = r.get(3);
    let id = oids.exact(Address::new(r.get(0), r.get(1), r.get(2)))?.clone();
    if !fits(&keyword, &id) {
        return None;
    }
    let owner = if keyword == "COLUMN" { None } else { r.get(4) };
    let access = Access { keyword, owner, grants: grants(r, 5) };
    (!access.is_implied(&id)).then_some((id, access))
}

/// One `default_privileges.sql` row, unless it says no more than PostgreSQL's defaults.
pub fn defaults(r: &CatalogRow) -> Option<(ObjectId, Access)> {
    let keyword: String = r.get(2);
    let id = ObjectId::DefaultPrivileges {
        role: r.optional_name(0),
        schema: r.optional_name(1),
        on: r.name(2),
    };
    let access = Access { keyword, owner: None, grants: grants(r, 3) };
    (!access.is_implied(&id)).then_some((id, access))
}
