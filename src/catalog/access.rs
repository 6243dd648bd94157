//! Owners and privileges: who owns an object and who may use it. One model for every kind
//! that has them, keyed by the object's identity.

use std::collections::BTreeMap;

use super::ObjectId;

/// A privilege held by a role, or by `PUBLIC`, such as `SELECT` or `EXECUTE`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Privilege {
    /// A role name, or `PUBLIC`.
    pub grantee: String,
    pub privilege: String,
}

impl Privilege {
    pub fn new(grantee: impl Into<String>, privilege: impl Into<String>) -> Self {
        Self { grantee: grantee.into(), privilege: privilege.into() }
    }
}

/// Held privileges, each with whether it may be granted on (`WITH GRANT OPTION`).
pub type Grants = BTreeMap<Privilege, bool>;

/// The owner and the privileges of one object.
///
/// The owner's own privileges are not listed (they come with ownership). An owner of `None`
/// is the role that runs the migration, whatever its name, so a database owned by `app` and
/// a shadow owned by `postgres` compare equal. Grants are the effective ones: an object with
/// PostgreSQL's default privileges lists them (`EXECUTE` for `PUBLIC` on a function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// How `ALTER` and `GRANT` name the kind: `TABLE`, `VIEW`, `SEQUENCE`, `FUNCTION`,
    /// `COLUMN`, `SCHEMA`, ...; for default privileges the plural (`TABLES`).
    pub keyword: String,
    pub owner: Option<String>,
    pub grants: Grants,
}

impl Access {
    /// What a new object holds before any `GRANT`: PostgreSQL's defaults for `PUBLIC`
    /// (`acldefault`), which are also the defaults for a kind when none are set. Defaults for
    /// a kind in one schema only add to those.
    pub fn default_grants(id: &ObjectId, keyword: &str) -> Grants {
        let public = |p: &str| (Privilege::new("PUBLIC", p), false);
        if matches!(id, ObjectId::DefaultPrivileges { schema: Some(_), .. }) {
            return Grants::new();
        }
        match keyword {
            "FUNCTION" | "PROCEDURE" | "AGGREGATE" | "FUNCTIONS" => [public("EXECUTE")].into(),
            "TYPE" | "DOMAIN" | "TYPES" => [public("USAGE")].into(),
            _ => Grants::new(),
        }
    }

    /// Whether the entry says no more than its absence would: a column or a kind's defaults
    /// without grants of their own.
    pub fn is_implied(&self, id: &ObjectId) -> bool {
        matches!(id, ObjectId::Column(..) | ObjectId::DefaultPrivileges { .. })
            && self.owner.is_none()
            && self.grants == Access::default_grants(id, &self.keyword)
    }

    /// Every role named, as owner or grantee (not `PUBLIC`).
    pub fn roles(&self) -> impl Iterator<Item = &String> {
        self.owner.iter().chain(self.grants.keys().map(|p| &p.grantee)).filter(|r| *r != "PUBLIC")
    }
}

/// Which of owners and privileges a project manages (`schemadiff.toml`); both by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manage {
    pub privileges: bool,
    pub owners: bool,
}

impl Default for Manage {
    fn default() -> Self {
        Manage { privileges: true, owners: true }
    }
}
