//! The SQL of the definition kinds, one function per kind and statement.

use super::{ident, literal, qualified};
use crate::catalog::{
    Collation, CompositeType, Domain, EventTrigger, ForeignTable, Function, Object, ObjectId,
    ObjectKind, Policy, RangeType, Server, Trigger, TriggerState, View,
};

pub fn create(o: &Object) -> Vec<String> {
    match o {
        Object::View(v) => {
            let mut out = vec![create_view(v, false)];
            out.extend(view_defaults(None, v));
            out
        }
        Object::Function(f) => vec![create_function(f)],
        Object::Trigger(t) => {
            let mut out = vec![format!("{};", t.definition)];
            out.extend(trigger_state(t));
            out
        }
        Object::Policy(p) => vec![create_policy(p)],
        Object::Domain(d) => create_domain(d),
        Object::Composite(c) => vec![create_composite(c)],
        Object::Collation(c) => vec![create_collation(c)],
        Object::Rule(r) => vec![format!("{};", r.definition)],
        Object::Operator(o) => vec![create_operator(o)],
        Object::Cast(c) => vec![create_cast(c)],
        Object::Range(r) => vec![create_range(r)],
        Object::Server(s) => vec![create_server(s)],
        Object::ForeignTable(t) => vec![create_foreign_table(t)],
        Object::EventTrigger(e) => create_event_trigger(e),
    }
}

pub fn drop(o: &Object) -> Vec<String> {
    vec![format!("DROP {} {};", o.kind().keyword(), comment_target(&o.id(), o.kind()))]
}

/// `CREATE OR REPLACE` of a kind that has it.
pub fn replace(from: &Object, o: &Object) -> Vec<String> {
    match (from, o) {
        (Object::View(f), Object::View(v)) => {
            let mut out = vec![create_view(v, true)];
            out.extend(view_defaults(Some(f), v));
            out
        }
        _ => replace_definition(o),
    }
}

fn replace_definition(o: &Object) -> Vec<String> {
    match o {
        Object::Function(f) => vec![create_function(f)],
        Object::Rule(r) => {
            vec![format!("{};", r.definition.replacen("CREATE RULE", "CREATE OR REPLACE RULE", 1))]
        }
        other => create(other),
    }
}

/// The kind's own `ALTER` statements from `from` to `to`.
pub fn alter(from: &Object, to: &Object) -> Vec<String> {
    match (from, to) {
        (Object::Trigger(_), Object::Trigger(t)) => {
            trigger_state(t).into_iter().chain(enable_if_needed(t)).collect()
        }
        (Object::Policy(_), Object::Policy(p)) => vec![alter_policy(p)],
        (Object::Domain(a), Object::Domain(b)) => alter_domain(a, b),
        (Object::Composite(a), Object::Composite(b)) => alter_composite(a, b),
        (Object::Server(a), Object::Server(b)) => alter_server(a, b),
        (Object::EventTrigger(_), Object::EventTrigger(e)) => event_trigger_state(e),
        (a, b) => drop(a).into_iter().chain(create(b)).collect(),
    }
}

/// How `COMMENT ON` and `DROP` name the object after its kind keyword.
pub fn comment_target(id: &ObjectId, kind: ObjectKind) -> String {
    match id {
        ObjectId::Function(name, args) if kind == ObjectKind::Aggregate && args.is_empty() => {
            format!("{}(*)", qualified(name))
        }
        ObjectId::Function(name, args) => format!("{}({args})", qualified(name)),
        ObjectId::Operator(name, args) => {
            format!("{}.{} ({args})", ident(&name.schema), name.name)
        }
        ObjectId::Cast(source, target) => format!("({source} AS {target})"),
        ObjectId::Trigger(table, name)
        | ObjectId::Policy(table, name)
        | ObjectId::Rule(table, name) => {
            format!("{} ON {}", ident(name), qualified(table))
        }
        ObjectId::View(name)
        | ObjectId::Type(name)
        | ObjectId::Collation(name)
        | ObjectId::ForeignTable(name) => qualified(name),
        ObjectId::Server(name) | ObjectId::EventTrigger(name) => ident(name),
        other => other.to_string(),
    }
}

fn create_view(v: &View, or_replace: bool) -> String {
    let with = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    if v.materialized {
        let data = if v.populated { "" } else { "\nWITH NO DATA" };
        format!(
            "CREATE MATERIALIZED VIEW {}{with} AS\n {}{data};",
            qualified(&v.name),
            v.definition
        )
    } else if v.refers_to_itself && !or_replace {
        // First a view of the same columns, which the real query can then replace.
        let columns: Vec<String> =
            v.columns.iter().map(|(name, ty)| format!("NULL::{ty} AS {}", ident(name))).collect();
        format!(
            "CREATE VIEW {} AS\n SELECT {};\n{}",
            qualified(&v.name),
            columns.join(", "),
            create_view(v, true)
        )
    } else {
        let verb = if or_replace { "CREATE OR REPLACE VIEW" } else { "CREATE VIEW" };
        format!("{verb} {}{with} AS\n {};", qualified(&v.name), v.definition)
    }
}

fn create_function(f: &Function) -> String {
    let Some(aggregate) = &f.aggregate else {
        return format!("{};", f.definition);
    };
    let options: Vec<String> = aggregate
        .options
        .iter()
        .map(|(k, v)| match k.as_str() {
            "INITCOND" | "MINITCOND" => format!("{k} = {}", literal(v)),
            "FINALFUNC_EXTRA" => k.clone(),
            "PARALLEL" => format!("{k} = {}", v.to_uppercase()),
            _ => format!("{k} = {v}"),
        })
        .collect();
    let args = if f.identity_arguments.is_empty() { "*" } else { &f.identity_arguments };
    format!(
        "CREATE AGGREGATE {}({args}) (\n    {}\n);",
        qualified(&f.name),
        options.join(",\n    ")
    )
}

fn trigger_state(t: &Trigger) -> Option<String> {
    let state = match t.state {
        TriggerState::Enabled => return None,
        TriggerState::Disabled => "DISABLE",
        TriggerState::Replica => "ENABLE REPLICA",
        TriggerState::Always => "ENABLE ALWAYS",
    };
    Some(format!("ALTER TABLE {} {state} TRIGGER {};", qualified(&t.table), ident(&t.name)))
}

/// Back to the default state, which `trigger_state` does not write.
fn enable_if_needed(t: &Trigger) -> Option<String> {
    (t.state == TriggerState::Enabled)
        .then(|| format!("ALTER TABLE {} ENABLE TRIGGER {};", qualified(&t.table), ident(&t.name)))
}

fn roles(p: &Policy) -> String {
    p.roles
        .iter()
        .map(|r| if r == "public" { "PUBLIC".to_string() } else { ident(r) })
        .collect::<Vec<_>>()
        .join(", ")
}

fn create_policy(p: &Policy) -> String {
    let mut s = format!("CREATE POLICY {} ON {}", ident(&p.name), qualified(&p.table));
    if !p.permissive {
        s.push_str(" AS RESTRICTIVE");
    }
    if p.command != "ALL" {
        s.push_str(&format!(" FOR {}", p.command));
    }
    if p.roles != ["public"] {
        s.push_str(&format!(" TO {}", roles(p)));
    }
    if let Some(u) = &p.using {
        s.push_str(&format!(" USING ({u})"));
    }
    if let Some(c) = &p.check {
        s.push_str(&format!(" WITH CHECK ({c})"));
    }
    s.push(';');
    s
}

fn alter_policy(p: &Policy) -> String {
    let mut s =
        format!("ALTER POLICY {} ON {} TO {}", ident(&p.name), qualified(&p.table), roles(p));
    if let Some(u) = &p.using {
        s.push_str(&format!(" USING ({u})"));
    }
    if let Some(c) = &p.check {
        s.push_str(&format!(" WITH CHECK ({c})"));
    }
    s.push(';');
    s
}

fn create_domain(d: &Domain) -> Vec<String> {
    let mut s = format!("CREATE DOMAIN {} AS {}", qualified(&d.name), d.base_type);
    if let Some(c) = &d.collation {
        s.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(default) = &d.default {
        s.push_str(&format!(" DEFAULT {default}"));
    }
    if d.not_null {
        s.push_str(" NOT NULL");
    }
    let mut later = Vec::new();
    for (name, def) in &d.constraints {
        // CREATE DOMAIN takes no NOT VALID constraints: they are added after.
        if def.ends_with(" NOT VALID") {
            later.push(add_domain_constraint(d, name, def));
        } else {
            s.push_str(&format!("\n    CONSTRAINT {} {def}", ident(name)));
        }
    }
    s.push(';');
    std::iter::once(s).chain(later).collect()
}

fn add_domain_constraint(d: &Domain, name: &str, def: &str) -> String {
    format!("ALTER DOMAIN {} ADD CONSTRAINT {} {def};", qualified(&d.name), ident(name))
}

fn alter_domain(a: &Domain, b: &Domain) -> Vec<String> {
    let name = qualified(&b.name);
    let mut out = Vec::new();
    for (c, def) in &a.constraints {
        if b.constraints.get(c) != Some(def) {
            out.push(format!("ALTER DOMAIN {name} DROP CONSTRAINT {};", ident(c)));
        }
    }
    if a.default != b.default {
        out.push(match &b.default {
            Some(d) => format!("ALTER DOMAIN {name} SET DEFAULT {d};"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
        });
    }
    if a.not_null != b.not_null {
        let verb = if b.not_null { "SET" } else { "DROP" };
        out.push(format!("ALTER DOMAIN {name} {verb} NOT NULL;"));
    }
    for (c, def) in &b.constraints {
        if a.constraints.get(c) != Some(def) {
            out.push(add_domain_constraint(b, c, def));
        }
    }
    out
}

fn attribute(a: &crate::catalog::Attribute) -> String {
    match &a.collation {
        Some(c) => format!("{} {} COLLATE {c}", ident(&a.name), a.type_sql),
        None => format!("{} {}", ident(&a.name), a.type_sql),
    }
}

fn create_composite(c: &CompositeType) -> String {
    let attributes: Vec<String> = c.attributes.iter().map(attribute).collect();
    format!("CREATE TYPE {} AS (\n    {}\n);", qualified(&c.name), attributes.join(",\n    "))
}

fn alter_composite(a: &CompositeType, b: &CompositeType) -> Vec<String> {
    let name = qualified(&b.name);
    let mut out = Vec::new();
    for x in &a.attributes {
        match b.attributes.iter().find(|y| y.name == x.name) {
            None => out.push(format!("ALTER TYPE {name} DROP ATTRIBUTE {};", ident(&x.name))),
            Some(y) if y != x => {
                let mut s = format!(
                    "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}",
                    ident(&y.name),
                    y.type_sql
                );
                if let Some(c) = &y.collation {
                    s.push_str(&format!(" COLLATE {c}"));
                }
                out.push(s + ";");
            }
            Some(_) => {}
        }
    }
    for y in b.attributes.iter().filter(|y| !a.attributes.iter().any(|x| x.name == y.name)) {
        out.push(format!("ALTER TYPE {name} ADD ATTRIBUTE {};", attribute(y)));
    }
    out
}

fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("provider = {}", c.provider)];
    if let Some(l) = &c.locale {
        options.push(format!("locale = {}", literal(l)));
    }
    if let Some(l) = &c.lc_collate {
        options.push(format!("lc_collate = {}", literal(l)));
    }
    if let Some(l) = &c.lc_ctype {
        options.push(format!("lc_ctype = {}", literal(l)));
    }
    if !c.deterministic {
        options.push("deterministic = false".to_string());
    }
    format!("CREATE COLLATION {} ({});", qualified(&c.name), options.join(", "))
}

fn create_operator(o: &crate::catalog::Operator) -> String {
    let mut options = vec![format!("FUNCTION = {}", o.function)];
    for (key, value) in [
        ("LEFTARG", &o.left),
        ("RIGHTARG", &o.right),
        ("COMMUTATOR", &o.commutator),
        ("NEGATOR", &o.negator),
        ("RESTRICT", &o.restrict),
        ("JOIN", &o.join),
    ] {
        if let Some(v) = value {
            options.push(format!("{key} = {v}"));
        }
    }
    if o.hashes {
        options.push("HASHES".to_string());
    }
    if o.merges {
        options.push("MERGES".to_string());
    }
    format!("CREATE OPERATOR {}.{} ({});", ident(&o.name.schema), o.name.name, options.join(", "))
}

fn create_cast(c: &crate::catalog::Cast) -> String {
    let how = match (c.method.as_str(), &c.function) {
        ("i", _) => "WITH INOUT".to_string(),
        (_, Some(f)) => format!("WITH FUNCTION {f}"),
        _ => "WITHOUT FUNCTION".to_string(),
    };
    let context = match c.context.as_str() {
        "a" => " AS ASSIGNMENT",
        "i" => " AS IMPLICIT",
        _ => "",
    };
    format!("CREATE CAST ({} AS {}) {how}{context};", c.source, c.target)
}

/// `OPTIONS (key 'value', ...)` from `key=value` entries; empty when there are none.
fn options_clause(options: &[String]) -> String {
    if options.is_empty() {
        return String::new();
    }
    let list: Vec<String> = options.iter().map(|o| option_pair(o, "")).collect();
    format!(" OPTIONS ({})", list.join(", "))
}

fn option_pair(option: &str, verb: &str) -> String {
    let (key, value) = option.split_once('=').unwrap_or((option, ""));
    format!("{verb}{} {}", ident(key), literal(value))
}

fn create_range(r: &RangeType) -> String {
    let mut options = vec![format!("SUBTYPE = {}", r.subtype)];
    options.extend(r.options.iter().map(|(k, v)| format!("{k} = {v}")));
    format!("CREATE TYPE {} AS RANGE ({});", qualified(&r.name), options.join(", "))
}

fn create_server(s: &Server) -> String {
    let mut sql = format!("CREATE SERVER {}", ident(&s.name));
    if let Some(t) = &s.server_type {
        sql.push_str(&format!(" TYPE {}", literal(t)));
    }
    if let Some(v) = &s.version {
        sql.push_str(&format!(" VERSION {}", literal(v)));
    }
    format!("{sql} FOREIGN DATA WRAPPER {}{};", ident(&s.wrapper), options_clause(&s.options))
}

/// Version and options in place (the diff recreates a server whose wrapper or type changes).
fn alter_server(a: &Server, b: &Server) -> Vec<String> {
    let key = |o: &String| o.split_once('=').map_or(o.clone(), |(k, _)| k.to_string());
    let mut changes = Vec::new();
    for o in &b.options {
        match a.options.iter().find(|x| key(x) == key(o)) {
            Some(x) if x == o => {}
            Some(_) => changes.push(option_pair(o, "SET ")),
            None => changes.push(option_pair(o, "ADD ")),
        }
    }
    for o in a.options.iter().filter(|x| !b.options.iter().any(|o| key(o) == key(x))) {
        changes.push(format!("DROP {}", ident(&key(o))));
    }
    let mut sql = format!("ALTER SERVER {}", ident(&b.name));
    if a.version != b.version
        && let Some(v) = &b.version
    {
        sql.push_str(&format!(" VERSION {}", literal(v)));
    }
    if !changes.is_empty() {
        sql.push_str(&format!(" OPTIONS ({})", changes.join(", ")));
    }
    vec![format!("{sql};")]
}

fn create_foreign_table(t: &ForeignTable) -> String {
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut col =
                format!("    {} {}{}", ident(&c.name), c.type_sql, options_clause(&c.options));
            if let Some(coll) = &c.collation {
                col.push_str(&format!(" COLLATE {coll}"));
            }
            if c.not_null {
                col.push_str(" NOT NULL");
            }
            if let Some(d) = &c.default {
                col.push_str(&format!(" DEFAULT {d}"));
            }
            col
        })
        .collect();
    format!(
        "CREATE FOREIGN TABLE {} (\n{}\n) SERVER {}{};",
        qualified(&t.name),
        columns.join(",\n"),
        ident(&t.server),
        options_clause(&t.options)
    )
}

fn create_event_trigger(e: &EventTrigger) -> Vec<String> {
    let mut sql = format!("CREATE EVENT TRIGGER {} ON {}", ident(&e.name), ident(&e.event));
    if !e.tags.is_empty() {
        let tags: Vec<String> = e.tags.iter().map(|t| literal(t)).collect();
        sql.push_str(&format!("\n    WHEN TAG IN ({})", tags.join(", ")));
    }
    let mut out = vec![format!("{sql}\n    EXECUTE FUNCTION {}();", e.function)];
    if e.enabled != "O" {
        out.extend(event_trigger_state(e));
    }
    out
}

fn event_trigger_state(e: &EventTrigger) -> Vec<String> {
    let state = match e.enabled.as_str() {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    };
    vec![format!("ALTER EVENT TRIGGER {} {state};", ident(&e.name))]
}

/// The column defaults of `to` that `from` lacks or has otherwise, set; the others dropped.
fn view_defaults(from: Option<&View>, to: &View) -> Vec<String> {
    let none = std::collections::BTreeMap::new();
    let old = from.map_or(&none, |f| &f.column_defaults);
    let alter =
        |c: &String| format!("ALTER VIEW {} ALTER COLUMN {}", qualified(&to.name), ident(c));
    let mut out: Vec<String> = (old.keys())
        .filter(|c| !to.column_defaults.contains_key(*c) && to.columns.iter().any(|(n, _)| n == *c))
        .map(|c| format!("{} DROP DEFAULT;", alter(c)))
        .collect();
    for (c, d) in &to.column_defaults {
        if old.get(c) != Some(d) {
            out.push(format!("{} SET DEFAULT {d};", alter(c)));
        }
    }
    out
}
