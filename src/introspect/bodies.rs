//! What routine bodies name. The catalog records no dependencies for a PL/pgSQL body or an
//! SQL body written as a string, so they are parsed with pg_query (its PL/pgSQL parser, then
//! PostgreSQL's own grammar for each embedded query) for the tables, views and routines they
//! name, resolved against the catalog the way the default `search_path` would.

use std::collections::BTreeSet;

use crate::catalog::{Catalog, Object, ObjectId, QualifiedName};

/// Adds the edges routine bodies imply. SQL bodies are checked when the routine is created,
/// so what they name must exist first (`depends`); PL/pgSQL bodies run only when called, so
/// their edges order the plan where they can but give way to the catalog's (`soft_depends`).
pub fn add_body_dependencies(catalog: &mut Catalog) {
    let mut hard = Vec::new();
    let mut soft = Vec::new();
    for (id, object) in &catalog.objects {
        let Object::Function(f) = &**object else { continue };
        let names = match f.language.as_str() {
            "sql" if !f.body.trim().is_empty() => names_in_sql(&f.body),
            "plpgsql" => names_in_plpgsql(&f.definition),
            _ => continue,
        };
        let found: BTreeSet<ObjectId> =
            names.iter().flat_map(|n| resolve(catalog, &f.name.schema, n)).collect();
        let into = if f.language == "sql" { &mut hard } else { &mut soft };
        into.extend(found.into_iter().map(|target| (id.clone(), target)));
    }
    for (object, target) in hard {
        catalog.depends.add(&object, &target);
    }
    for (object, target) in soft {
        if !catalog.depends.needs(&object, &target) {
            catalog.soft_depends.add(&object, &target);
        }
    }
}

/// A name a body uses: a relation or a routine, as written (`t`, `s.t`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Name {
    Relation(String),
    Routine(String),
}

fn names_in_sql(sql: &str) -> BTreeSet<Name> {
    let Ok(parsed) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) else {
        return BTreeSet::new();
    };
    let mut out: BTreeSet<Name> = parsed.tables().into_iter().map(Name::Relation).collect();
    out.extend(parsed.functions().into_iter().map(Name::Routine));
    out
}

fn names_in_plpgsql(definition: &str) -> BTreeSet<Name> {
    let Ok(tree) = pg_query::parse_plpgsql(definition) else {
        return BTreeSet::new();
    };
    let mut queries = Vec::new();
    collect_queries(&tree, &mut queries);
    let mut out = BTreeSet::new();
    for q in queries {
        // Conditions and assignments are bare expressions; statements parse as they are.
        let parsed = names_in_sql(&q);
        if parsed.is_empty() {
            out.extend(names_in_sql(&format!("SELECT {q}")));
        } else {
            out.extend(parsed);
        }
    }
    out
}

/// Every `"query"` string in the PL/pgSQL parse tree.
fn collect_queries(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) if k == "query" => out.push(s.clone()),
                    _ => collect_queries(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_queries(v, out)),
        _ => {}
    }
}

/// The objects a name may mean: qualified names exactly, bare ones in the routine's own
/// schema, then `public`.
fn resolve(catalog: &Catalog, own_schema: &str, name: &Name) -> Vec<ObjectId> {
    let (written, relation) = match name {
        Name::Relation(n) => (n, true),
        Name::Routine(n) => (n, false),
    };
    let candidates: Vec<QualifiedName> = match written.rsplit_once('.') {
        Some((schema, n)) => vec![QualifiedName::new(schema, n)],
        None => [own_schema, "public"]
            .iter()
            .map(|s| QualifiedName::new(*s, written.as_str()))
            .collect(),
    };
    for q in candidates {
        let found: Vec<ObjectId> = if relation {
            let table = ObjectId::Table(q.clone());
            let view = ObjectId::View(q.clone());
            if catalog.tables.contains_key(&q) {
                vec![table]
            } else if catalog.objects.contains_key(&view) {
                vec![view]
            } else {
                vec![]
            }
        } else {
            catalog
                .objects
                .keys()
                .filter(|id| matches!(id, ObjectId::Function(n, _) if *n == q))
                .cloned()
                .collect()
        };
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}
