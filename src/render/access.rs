//! `GRANT`, `REVOKE`, `ALTER ... OWNER TO` and `ALTER DEFAULT PRIVILEGES`.

use std::collections::BTreeMap;

use super::{ident, qualified};
use crate::catalog::{ObjectId, Privilege};

/// How `ALTER` names the object after its keyword, and how `GRANT` does (`ON TABLE t`).
fn names(id: &ObjectId, keyword: &str) -> (String, String) {
    let routine = |name, args: &str| {
        let args = if keyword == "AGGREGATE" && args.is_empty() { "*" } else { args };
        format!("{}({args})", qualified(name))
    };
    match id {
        ObjectId::Schema(s) => (ident(s), format!("SCHEMA {}", ident(s))),
        ObjectId::Table(n) | ObjectId::View(n) | ObjectId::ForeignTable(n) => {
            (qualified(n), format!("TABLE {}", qualified(n)))
        }
        ObjectId::Server(s) => (ident(s), format!("FOREIGN SERVER {}", ident(s))),
        ObjectId::Column(t, _) => (qualified(t), format!("TABLE {}", qualified(t))),
        ObjectId::Sequence(n) => (qualified(n), format!("SEQUENCE {}", qualified(n))),
        ObjectId::Function(n, args) => {
            let on = if keyword == "PROCEDURE" { "PROCEDURE" } else { "FUNCTION" };
            (routine(n, args), format!("{on} {}", routine(n, args)))
        }
        ObjectId::Type(n) => (qualified(n), format!("{keyword} {}", qualified(n))),
        ObjectId::Operator(n, args) => {
            let name = format!("{}.{} ({args})", ident(&n.schema), n.name);
            (name.clone(), name)
        }
        ObjectId::Collation(n) => (qualified(n), qualified(n)),
        ObjectId::DefaultPrivileges { on, .. } => (String::new(), on.to_string()),
        other => (other.to_string(), other.to_string()),
    }
}

fn grantee(role: &str) -> String {
    if role == "PUBLIC" { role.to_string() } else { ident(role) }
}

/// The privileges per grantee and flag, each list as `GRANT` spells it.
fn by_grantee(id: &ObjectId, list: &[(Privilege, bool)]) -> BTreeMap<(String, bool), Vec<String>> {
    let mut out: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
    for (p, flag) in list {
        let privilege = match id {
            ObjectId::Column(_, c) => format!("{} ({})", p.privilege, ident(c)),
            _ => p.privilege.clone(),
        };
        out.entry((p.grantee.clone(), *flag)).or_default().push(privilege);
    }
    out
}

pub fn set_access(
    id: &ObjectId,
    keyword: &str,
    owner: &Option<Option<String>>,
    revoke: &[(Privilege, bool)],
    grant: &[(Privilege, bool)],
) -> Vec<String> {
    let (name, on) = names(id, keyword);
    let prefix = match id {
        ObjectId::DefaultPrivileges { role, schema, .. } => {
            let mut p = "ALTER DEFAULT PRIVILEGES ".to_string();
            if let Some(r) = role {
                p.push_str(&format!("FOR ROLE {} ", ident(r)));
            }
            if let Some(s) = schema {
                p.push_str(&format!("IN SCHEMA {} ", ident(s)));
            }
            p
        }
        _ => String::new(),
    };
    let mut out = Vec::new();
    for ((role, option_only), privileges) in by_grantee(id, revoke) {
        let option = if option_only { "GRANT OPTION FOR " } else { "" };
        out.push(format!(
            "{prefix}REVOKE {option}{} ON {on} FROM {};",
            privileges.join(", "),
            grantee(&role)
        ));
    }
    if let Some(owner) = owner {
        let to = owner.as_deref().map_or("CURRENT_USER".to_string(), ident);
        out.push(format!("ALTER {keyword} {name} OWNER TO {to};"));
    }
    for ((role, with_option), privileges) in by_grantee(id, grant) {
        let option = if with_option { " WITH GRANT OPTION" } else { "" };
        out.push(format!(
            "{prefix}GRANT {} ON {on} TO {}{option};",
            privileges.join(", "),
            grantee(&role)
        ));
    }
    out
}
