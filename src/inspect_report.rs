//! `schemadiff inspect`: a catalog described for people and tools. JSON is a schema map
//! (every schema, table, column, index, constraint, view, routine and dependency); Markdown
//! is a page for the docs folder, with a Mermaid ER diagram that GitHub renders; Mermaid is
//! the diagram alone.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use schemadiff::catalog::{
    Catalog, Column, ConstraintKind, Index, Object, ObjectId, QualifiedName, Table,
};

/// What belongs to one schema, in name order.
struct SchemaObjects<'c> {
    comment: Option<&'c str>,
    tables: Vec<&'c Table>,
    objects: Vec<&'c Object>,
}

fn by_schema(catalog: &Catalog) -> BTreeMap<String, SchemaObjects<'_>> {
    let empty = || SchemaObjects { comment: None, tables: Vec::new(), objects: Vec::new() };
    let mut out: BTreeMap<String, SchemaObjects> = BTreeMap::new();
    for s in catalog.schemas.values() {
        out.entry(s.name.clone()).or_insert_with(empty).comment = s.comment.as_deref();
    }
    for t in catalog.tables.values() {
        out.entry(t.name.schema.to_string()).or_insert_with(empty).tables.push(t);
    }
    for (id, o) in &catalog.objects {
        if let Some(schema) = id.schema() {
            out.entry(schema.to_string()).or_insert_with(empty).objects.push(o);
        }
    }
    out
}

fn kind_name(kind: ConstraintKind) -> &'static str {
    match kind {
        ConstraintKind::PrimaryKey => "primary key",
        ConstraintKind::Unique => "unique",
        ConstraintKind::Check => "check",
        ConstraintKind::ForeignKey => "foreign key",
        ConstraintKind::Exclusion => "exclusion",
        ConstraintKind::NotNull => "not null",
    }
}

fn column_json(c: &Column) -> Value {
    json!({
        "name": c.name,
        "type": c.type_sql,
        "nullable": !c.not_null,
        "default": c.default,
        "identity": c.identity.as_ref().map(|i| if i.always { "always" } else { "by default" }),
        "generated": c.generated,
        "comment": c.comment,
    })
}

/// Each table's indexes, in name order: gathered once, since a scan of every index for each
/// table is quadratic in a large schema.
fn indexes_by_table(catalog: &Catalog) -> HashMap<&QualifiedName, Vec<&Index>> {
    let mut out: HashMap<&QualifiedName, Vec<&Index>> = HashMap::new();
    for i in catalog.indexes.values() {
        out.entry(&i.table).or_default().push(i);
    }
    out
}

pub fn json(catalog: &Catalog) -> Value {
    let indexes_of = indexes_by_table(catalog);
    let schemas: Vec<Value> = by_schema(catalog)
        .into_iter()
        .map(|(name, s)| {
            let tables: Vec<Value> = (s.tables.iter())
                .map(|t| {
                    let indexes: Vec<Value> = (indexes_of.get(&t.name).into_iter().flatten())
                        .map(|i| json!({"name": i.name.name, "definition": i.definition, "columns": i.columns, "comment": i.comment}))
                        .collect();
                    json!({
                        "name": t.name.name,
                        "comment": t.comment,
                        "columns": t.columns.iter().map(column_json).collect::<Vec<_>>(),
                        "constraints": t.constraints.values().map(|c| json!({
                            "name": c.name,
                            "kind": kind_name(c.kind),
                            "definition": c.definition,
                            "columns": c.columns,
                            "references": catalog.referenced_table(c).filter(|_| c.kind == ConstraintKind::ForeignKey).map(|r| r.to_string()),
                            "comment": c.comment,
                        })).collect::<Vec<_>>(),
                        "indexes": indexes,
                        "partition_of": t.partition_of.as_ref().map(|p| p.parent.to_string()),
                    })
                })
                .collect();
            let mut views = Vec::new();
            let mut routines = Vec::new();
            let mut other = Vec::new();
            for o in &s.objects {
                match o {
                    Object::View(v) => views.push(json!({
                        "name": v.name.name,
                        "materialized": v.materialized,
                        "columns": v.columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
                        "definition": v.definition,
                        "comment": v.comment,
                    })),
                    Object::Function(f) => routines.push(json!({
                        "name": f.name.name,
                        "kind": o.kind().keyword().to_lowercase(),
                        "arguments": f.arguments,
                        "result": f.result,
                        "language": f.language,
                        "comment": f.comment,
                    })),
                    _ => other.push(json!({"kind": o.kind().keyword().to_lowercase(), "name": o.id().to_string()})),
                }
            }
            let enums: Vec<Value> = (catalog.enums.values())
                .filter(|e| e.name.schema == name)
                .map(|e| json!({"name": e.name.name, "labels": e.labels, "comment": e.comment}))
                .collect();
            let sequences: Vec<Value> = (catalog.sequences.values())
                .filter(|q| q.name.schema == name)
                .map(|q| json!({"name": q.name.name, "owned_by": q.owned_by.as_ref().map(|(t, c)| format!("{t}.{c}"))}))
                .collect();
            json!({
                "name": name,
                "comment": s.comment,
                "tables": tables,
                "views": views,
                "routines": routines,
                "enums": enums,
                "sequences": sequences,
                "other": other,
            })
        })
        .collect();
    let dependencies: Vec<Value> = (catalog.depends.edges())
        .map(|(from, to)| json!({"from": from.to_string(), "to": to.to_string()}))
        .collect();
    json!({
        "schemas": schemas,
        "extensions": catalog.extensions.values().map(|e| json!({"name": e.name, "schema": e.schema, "version": e.version})).collect::<Vec<_>>(),
        "dependencies": dependencies,
    })
}

/// An identifier Mermaid takes for an entity: letters, digits and `_`.
fn entity(name: &QualifiedName) -> String {
    let raw = format!("{}__{}", name.schema, name.name);
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// A column type as one Mermaid word.
fn mermaid_type(sql: &str) -> String {
    let word: String = (sql.chars())
        .map(|c| if c.is_ascii_alphanumeric() || "_()[]".contains(c) { c } else { '_' })
        .collect();
    if word.starts_with(|c: char| c.is_ascii_alphabetic()) { word } else { format!("t_{word}") }
}

fn quoted(text: &str) -> String {
    text.replace('"', "'")
}

pub fn mermaid(catalog: &Catalog) -> String {
    let mut out = String::from("erDiagram\n");
    for t in catalog.tables.values() {
        let keys = |column: &str| {
            let mut k = Vec::new();
            for c in t.constraints.values().filter(|c| c.columns.iter().any(|n| n == column)) {
                let key = match c.kind {
                    ConstraintKind::PrimaryKey => "PK",
                    ConstraintKind::ForeignKey => "FK",
                    ConstraintKind::Unique => "UK",
                    _ => continue,
                };
                if !k.contains(&key) {
                    k.push(key);
                }
            }
            k.join(", ")
        };
        out.push_str(&format!("    {}[\"{}\"] {{\n", entity(&t.name), quoted(&t.name.to_string())));
        for c in t.columns.iter() {
            let k = keys(&c.name);
            let name: String = (c.name.chars())
                .map(|ch| if ch.is_alphanumeric() || ch == '_' { ch } else { '_' })
                .collect();
            out.push_str(&format!("        {} {name}", mermaid_type(&c.type_sql)));
            if !k.is_empty() {
                out.push_str(&format!(" {k}"));
            }
            if let Some(comment) = &c.comment {
                out.push_str(&format!(" \"{}\"", quoted(comment)));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for t in catalog.tables.values() {
        for c in t.constraints.values().filter(|c| c.kind == ConstraintKind::ForeignKey) {
            let Some(parent) = catalog.referenced_table(c) else { continue };
            if !catalog.tables.contains_key(parent) {
                continue;
            }
            let optional = c
                .columns
                .iter()
                .any(|n| t.columns.iter().any(|col| col.name == n && !col.not_null));
            let link = if optional { "|o--o{" } else { "||--o{" };
            out.push_str(&format!(
                "    {} {link} {} : \"{}\"\n",
                entity(parent),
                entity(&t.name),
                quoted(&c.name)
            ));
        }
    }
    out
}

/// A Markdown table cell: one line, no `|`.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(catalog: &Catalog) -> String {
    let mut out = String::from("# Database schema\n\n");
    out.push_str("```mermaid\n");
    out.push_str(&mermaid(catalog));
    out.push_str("```\n");
    if !catalog.extensions.is_empty() {
        out.push_str("\n## Extensions\n\n");
        for e in catalog.extensions.values() {
            out.push_str(&format!("- `{}` {} in schema `{}`\n", e.name, e.version, e.schema));
        }
    }
    let indexes_of = indexes_by_table(catalog);
    for (name, s) in by_schema(catalog) {
        out.push_str(&format!("\n## Schema `{name}`\n"));
        if let Some(comment) = s.comment {
            out.push_str(&format!("\n{comment}\n"));
        }
        for e in catalog.enums.values().filter(|e| e.name.schema == name) {
            let labels: Vec<String> = e.labels.iter().map(|l| format!("`{l}`")).collect();
            out.push_str(&format!("\n### Enum `{}`\n\n{}\n", e.name, labels.join(", ")));
        }
        for t in &s.tables {
            let indexes = indexes_of.get(&t.name).map_or(&[][..], Vec::as_slice);
            table_section(&mut out, t, indexes);
        }
        for o in &s.objects {
            match o {
                Object::View(v) => {
                    let kind = if v.materialized { "Materialized view" } else { "View" };
                    out.push_str(&format!("\n### {kind} `{}`\n\n", v.name));
                    if let Some(comment) = &v.comment {
                        out.push_str(&format!("{comment}\n\n"));
                    }
                    out.push_str("| Column | Type |\n|--------|------|\n");
                    for (n, t) in &v.columns {
                        out.push_str(&format!("| `{}` | {} |\n", cell(n), cell(t)));
                    }
                    uses(&mut out, catalog, &o.id());
                    out.push_str(&format!("\n```sql\n{}\n```\n", v.definition.trim()));
                }
                Object::Function(f) => {
                    out.push_str(&format!(
                        "\n### {} `{}({})`\n\n",
                        capitalised(&o.kind().keyword().to_lowercase()),
                        f.name,
                        f.arguments
                    ));
                    if let Some(comment) = &f.comment {
                        out.push_str(&format!("{comment}\n\n"));
                    }
                    let returns =
                        f.result.as_deref().map(|r| format!(", returns `{r}`")).unwrap_or_default();
                    out.push_str(&format!("Language `{}`{returns}.\n", f.language));
                    uses(&mut out, catalog, &o.id());
                }
                _ => {}
            }
        }
        let rest: Vec<String> = (s.objects.iter())
            .filter(|o| !matches!(o, Object::View(_) | Object::Function(_)))
            .map(|o| format!("- {}", o.id()))
            .collect();
        if !rest.is_empty() {
            out.push_str(&format!("\n### Other objects\n\n{}\n", rest.join("\n")));
        }
    }
    out
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().collect::<String>() + chars.as_str())
}

/// The objects `id` depends on, as a line.
fn uses(out: &mut String, catalog: &Catalog, id: &ObjectId) {
    let needs: Vec<String> = (catalog.depends.of(id).into_iter())
        .filter(|d| !matches!(d, ObjectId::Schema(_)))
        .map(|d| format!("{d}"))
        .collect();
    if !needs.is_empty() {
        out.push_str(&format!("\nUses: {}.\n", needs.join(", ")));
    }
}

fn table_section(out: &mut String, t: &Table, indexes: &[&Index]) {
    out.push_str(&format!("\n### Table `{}`\n\n", t.name));
    if let Some(comment) = &t.comment {
        out.push_str(&format!("{comment}\n\n"));
    }
    if let Some(p) = &t.partition_of {
        out.push_str(&format!("A partition of `{}`, {}.\n\n", p.parent, p.bound));
    }
    out.push_str("| Column | Type | Nullable | Default | Comment |\n");
    out.push_str("|--------|------|----------|---------|---------|\n");
    for c in t.columns.iter() {
        let default = match (&c.default, &c.identity, &c.generated) {
            (_, Some(i), _) => {
                format!("identity ({})", if i.always { "always" } else { "by default" })
            }
            (_, _, Some(g)) => format!("generated: `{}`", cell(g)),
            (Some(d), _, _) => format!("`{}`", cell(d)),
            _ => String::new(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {default} | {} |\n",
            cell(&c.name),
            cell(&c.type_sql),
            if c.not_null { "no" } else { "yes" },
            cell(c.comment.as_deref().unwrap_or(""))
        ));
    }
    if !t.constraints.is_empty() {
        out.push_str("\nConstraints:\n\n");
        for c in t.constraints.values() {
            out.push_str(&format!("- `{}` ({}): `{}`\n", c.name, kind_name(c.kind), c.definition));
        }
    }
    let indexes: Vec<String> =
        indexes.iter().map(|i| format!("- `{}`: `{}`", i.name.name, i.definition)).collect();
    if !indexes.is_empty() {
        out.push_str(&format!("\nIndexes:\n\n{}\n", indexes.join("\n")));
    }
}
