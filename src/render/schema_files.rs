//! A catalog written out as `schema/` files (`schemadiff pull`): the statements that make it
//! from an empty database, in the plan's order, grouped into a file per schema or, split, a
//! file per table, view, type or routine with what belongs to it.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, ObjectId, QualifiedName};
use crate::plan::{Plan, Step, touches};

/// The file of objects that live in no schema (extensions, casts, servers, event triggers).
/// Its leading underscore sorts it before the schemas' files, where it is read first.
pub const DATABASE_FILE: &str = "_database.sql";

/// How pulled statements are spread over files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `schema/<schema>.sql`.
    PerSchema,
    /// `schema/<schema>/<object>.sql`, a table's indexes, constraints, triggers and comments
    /// with it.
    PerObject,
}

/// `(path relative to schema/, text)` of each file, in path order. `setup` makes `catalog`
/// from an empty database.
pub fn schema_files(setup: &Plan, catalog: &Catalog, layout: Layout) -> Vec<(String, String)> {
    let mut files: BTreeMap<String, Vec<&Step>> = BTreeMap::new();
    for step in &setup.steps {
        files.entry(file_of(step, catalog, layout)).or_default().push(step);
    }
    files
        .into_iter()
        .map(|(path, steps)| {
            let mut text = String::new();
            // As in pg_dump's output, and as the database had them: a body may name what is
            // made later, or hold what only runs unchecked.
            if steps.iter().any(|s| super::creates_routine(&s.change)) {
                text.push_str("SET check_function_bodies = false;\n\n");
            }
            for step in steps {
                for statement in super::step_sql(step) {
                    // Tables, views and routines stand apart; their ALTERs and comments follow.
                    if !text.is_empty() && !text.ends_with("\n\n") && starts_object(&statement) {
                        text.push('\n');
                    }
                    text.push_str(&statement);
                    text.push('\n');
                }
            }
            (path, text)
        })
        // A step of no statements (a privilege already given by default) makes no file.
        .filter(|(_, text)| !text.is_empty())
        .collect()
}

fn starts_object(statement: &str) -> bool {
    statement.starts_with("CREATE ") && statement.contains('\n')
}

fn file_of(step: &Step, catalog: &Catalog, layout: Layout) -> String {
    let touched = touches(&step.change);
    // What a step makes or changes; a comment or grant only requires its object, named last.
    let Some(id) = touched.creates.first().or(touched.alters.first()).or(touched.requires.last())
    else {
        return DATABASE_FILE.to_string();
    };
    let schema = match id {
        ObjectId::Schema(s) => Some(s.as_str()),
        other => other.schema(),
    };
    let Some(schema) = schema else { return DATABASE_FILE.to_string() };
    match layout {
        Layout::PerSchema => format!("{}.sql", file_name(schema)),
        Layout::PerObject => match owner(id, catalog) {
            Some(name) => format!("{}/{}.sql", file_name(schema), file_name(&name.name)),
            // The schema itself, and its default privileges.
            None => format!("{}/{}", file_name(schema), "_schema.sql"),
        },
    }
}

/// The table, view, type, sequence or routine `id` is written with.
fn owner(id: &ObjectId, catalog: &Catalog) -> Option<QualifiedName> {
    match id {
        ObjectId::Column(t, _)
        | ObjectId::Constraint(t, _)
        | ObjectId::Default(t, _)
        | ObjectId::Trigger(t, _)
        | ObjectId::Policy(t, _)
        | ObjectId::Rule(t, _) => Some(t.clone()),
        ObjectId::Index(n) => Some(catalog.indexes.get(n).map_or(n, |i| &i.table).clone()),
        // A sequence a column owns goes with its table.
        ObjectId::Sequence(n) => Some(
            catalog
                .sequences
                .get(n)
                .and_then(|s| s.owned_by.as_ref())
                .map_or(n, |(table, _)| table)
                .clone(),
        ),
        ObjectId::Type(n)
        | ObjectId::Table(n)
        | ObjectId::View(n)
        | ObjectId::Function(n, _)
        | ObjectId::Collation(n)
        | ObjectId::Operator(n, _)
        | ObjectId::ForeignTable(n) => Some(n.clone()),
        ObjectId::Schema(_)
        | ObjectId::Extension(_)
        | ObjectId::Cast(..)
        | ObjectId::Server(_)
        | ObjectId::EventTrigger(_)
        | ObjectId::DefaultPrivileges { .. } => None,
    }
}

/// A name as a file name: path separators and other awkward characters become `_`.
fn file_name(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}
