//! What stops a plan before any change is made: differences schemadiff cannot carry out.

use std::collections::BTreeSet;

use crate::catalog::{self, Catalog};
use crate::config::Config;
use crate::error::{Error, Result};

/// Objects schemadiff cannot manage that differ between the two sides stop the plan: a
/// migration that silently left them out would pass review and CI while the schema and the
/// database disagree. `exclude` in `schemadiff.toml` accepts them by name.
pub fn refuse_unmanaged(
    config: &Config,
    current: &BTreeSet<String>,
    desired: &BTreeSet<String>,
) -> Result<()> {
    let differ: Vec<String> = current
        .symmetric_difference(desired)
        .filter(|o| !config.excludes(o))
        .map(|o| {
            format!(
                "  {o} ({})",
                if desired.contains(o) { "only in schema" } else { "only in the current state" }
            )
        })
        .collect();
    if differ.is_empty() {
        return Ok(());
    }
    Err(Error::Unmanaged(differ.join("\n")))
}

/// Roles are cluster objects that migrations do not create: a role the schema names and the
/// target lacks would fail there, so the plan stops first and names it.
pub fn refuse_missing_roles(desired: &Catalog, target_roles: &[String]) -> Result<()> {
    let named: BTreeSet<&String> = desired
        .objects
        .values()
        .filter_map(|o| match &**o {
            catalog::Object::Policy(p) => Some(p.roles.iter()),
            _ => None,
        })
        .flatten()
        .chain(desired.access.values().flat_map(catalog::Access::roles))
        .filter(|r| *r != "public" && !r.starts_with("pg_") && !target_roles.contains(r))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = named.into_iter().map(String::as_str).collect();
    Err(Error::Usage(format!(
        "the schema names roles the database does not have: {}; create them there first (roles belong to the cluster, not to a migration)",
        names.join(", ")
    )))
}
