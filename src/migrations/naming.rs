//! The description part of a migration's file name, derived from its changes.

use std::collections::BTreeSet;

use crate::catalog;
use crate::plan::Plan;

/// A file-name description derived from the changes, such as `add_email_to_contacts`.
pub fn describe(plan: &Plan) -> String {
    use crate::diff::Change::*;
    // Each change as a phrase and the object it is about (a table or a type).
    let mut phrases: Vec<(String, Option<(u8, catalog::Name)>)> = Vec::new();
    for step in &plan.steps {
        let (phrase, subject) = match &step.change {
            CreateTable { table: t, .. } => {
                (format!("create_{}", t.name.name), Some((0, t.name.name.clone())))
            }
            DropTable { table, .. } => {
                (format!("drop_{}", table.name.name), Some((0, table.name.name.clone())))
            }
            AddColumn { table, column, .. } => {
                (format!("add_{}_to_{}", column.name, table.name), Some((0, table.name.clone())))
            }
            DropColumn { table, column, .. } => {
                (format!("drop_{}_from_{}", column.name, table.name), Some((0, table.name.clone())))
            }
            AlterColumn { table, to, .. } => {
                (format!("alter_{}_{}", table.name, to.name), Some((0, table.name.clone())))
            }
            AddConstraint { table, constraint, .. } => {
                (format!("add_{}", constraint.name), Some((0, table.name.clone())))
            }
            DropConstraint { table, constraint } => {
                (format!("drop_{}", constraint.name), Some((0, table.name.clone())))
            }
            CreateIndex { index: i, .. } => {
                (format!("create_index_{}", i.name.name), Some((0, i.table.name.clone())))
            }
            DropIndex { index: i, .. } => {
                (format!("drop_index_{}", i.name.name), Some((0, i.table.name.clone())))
            }
            ReplaceIndex { to: i, .. } => {
                (format!("replace_index_{}", i.name.name), Some((0, i.table.name.clone())))
            }
            ValidateConstraint { table, name } => {
                (format!("validate_{name}"), Some((0, table.name.clone())))
            }
            ProveNotNull { table, column, .. } | SetNotNullProven { table, column, .. } => {
                (format!("alter_{}_{column}", table.name), Some((0, table.name.clone())))
            }
            Backfill { table, column, .. } => {
                (format!("backfill_{column}_in_{}", table.name), Some((0, table.name.clone())))
            }
            Rename { from, to, .. } => {
                let subject = match from {
                    catalog::ObjectId::Table(t)
                    | catalog::ObjectId::Column(t, _)
                    | catalog::ObjectId::Constraint(t, _) => Some((0, t.name.clone())),
                    _ => None,
                };
                (format!("rename_{}_to_{to}", from.name()), subject)
            }
            CreateEnum(e) => {
                (format!("create_type_{}", e.name.name), Some((1, e.name.name.clone())))
            }
            DropEnum(e) => (format!("drop_type_{}", e.name.name), Some((1, e.name.name.clone()))),
            AddEnumValue { name, value, .. } => {
                (format!("add_{value}_to_{}", name.name), Some((1, name.name.clone())))
            }
            RenameEnumValue { name, from, to } => {
                (format!("rename_{from}_to_{to}_in_{}", name.name), Some((1, name.name.clone())))
            }
            RecreateEnum { to, .. } => {
                (format!("alter_type_{}", to.name.name), Some((1, to.name.name.clone())))
            }
            CreateSchema(s) => (format!("create_schema_{}", s.name), None),
            DropSchema { schema, .. } => (format!("drop_schema_{}", schema.name), None),
            CreateExtension(e) => (format!("create_extension_{}", e.name), None),
            DropExtension(e) => (format!("drop_extension_{}", e.name), None),
            CreateSequence(s) => (format!("create_sequence_{}", s.name.name), None),
            DropSequence(s) => (format!("drop_sequence_{}", s.name.name), None),
            AlterSequence { name, .. } => (format!("alter_sequence_{}", name.name), None),
            AlterExtensionSchema { name, .. } => (format!("move_extension_{name}"), None),
            UpdateExtension { name, .. } => (format!("update_extension_{name}"), None),
            CreateObject(o) => (format!("create_{}", object_phrase(o)), object_subject(o)),
            DropObject(o) => (format!("drop_{}", object_phrase(o)), object_subject(o)),
            ReplaceObject { to, .. } | AlterObject { to, .. } => {
                (format!("alter_{}", object_phrase(to)), object_subject(to))
            }
            SetRowSecurity { table, enabled, .. } => (
                format!(
                    "{}_row_security_on_{}",
                    if *enabled { "enable" } else { "disable" },
                    table.name
                ),
                Some((0, table.name.clone())),
            ),
            AttachPartition { table, partition } => (
                format!("attach_{}_to_{}", table.name, partition.parent.name),
                Some((0, partition.parent.name.clone())),
            ),
            DetachPartition { table, parent } => (
                format!("detach_{}_from_{}", table.name, parent.name),
                Some((0, parent.name.clone())),
            ),
            SetInherits { table, .. } | SetTableProperties { table, .. } => {
                (format!("alter_{}", table.name), Some((0, table.name.clone())))
            }
            SetAccess { id, owner, revoke, grant, .. } => {
                let owner_only = owner.is_some() && revoke.is_empty() && grant.is_empty();
                let what = if owner_only { "owner_of" } else { "privileges_on" };
                (format!("{what}_{}", access_subject(id)), None)
            }
            SetSequenceOwner { .. } | Comment { .. } => continue,
        };
        if !phrases.iter().any(|(p, _)| *p == phrase) {
            phrases.push((phrase, subject));
        }
    }
    // Tables say most about a migration, then types: their phrases come first.
    phrases.sort_by_key(|(_, subject)| subject.as_ref().map_or(2, |(rank, _)| *rank));
    let subjects: BTreeSet<&catalog::Name> =
        phrases.iter().filter_map(|(_, s)| s.as_ref().map(|(_, n)| n)).collect();
    let text = match phrases.as_slice() {
        [] => "comments".to_string(),
        [(only, _)] => only.clone(),
        [(first, Some((_, subject))), ..] if subjects.len() == 1 => {
            // Several changes to one object: creating it, or altering it.
            if first.starts_with("create_") && !first.starts_with("create_index_") {
                first.clone()
            } else {
                format!("alter_{subject}")
            }
        }
        [(first, _), (second, _)] if first.len() + second.len() + 5 <= 60 => {
            format!("{first}_and_{second}")
        }
        [(first, _), rest @ ..] => format!("{first}_and_{}_more", rest.len()),
    };
    super::slug(&text)
}

/// `view_active_contacts`, `trigger_set_updated_at_on_contacts`.
fn object_phrase(o: &catalog::Object) -> String {
    let kind = o.kind().keyword().to_lowercase().replace(' ', "_");
    match o {
        catalog::Object::Trigger(t) => format!("{kind}_{}_on_{}", t.name, t.table.name),
        catalog::Object::Policy(p) => format!("{kind}_{}_on_{}", p.name, p.table.name),
        catalog::Object::Rule(r) => format!("{kind}_{}_on_{}", r.name, r.table.name),
        _ => format!("{kind}_{}", o.name().name),
    }
}

/// Triggers and policies are about their table; other objects about themselves.
fn object_subject(o: &catalog::Object) -> Option<(u8, catalog::Name)> {
    match o {
        catalog::Object::Trigger(_) | catalog::Object::Policy(_) | catalog::Object::Rule(_) => {
            Some((0, o.name().name.clone()))
        }
        _ => Some((1, o.name().name.clone())),
    }
}

/// The object privileges are about, as a file name says it.
fn access_subject(id: &catalog::ObjectId) -> String {
    use catalog::ObjectId::*;
    match id {
        Schema(s) => format!("schema_{s}"),
        Column(t, _) => t.name.to_string(),
        DefaultPrivileges { on, .. } => format!("new_{}", on.to_lowercase()),
        Table(n)
        | View(n)
        | Sequence(n)
        | Function(n, _)
        | Type(n)
        | Collation(n)
        | Operator(n, _) => n.name.to_string(),
        other => other.to_string(),
    }
}
