//! The definition kinds: views, routines, triggers, policies, domains, composite types.
//! One bulk query each; every object registers its OIDs for the dependency edges.

use std::collections::BTreeMap;

use super::rows::CatalogRow;

use super::dependencies::{
    Oids, PG_CAST, PG_CLASS, PG_COLLATION, PG_EVENT_TRIGGER, PG_FOREIGN_SERVER, PG_OPERATOR,
    PG_POLICY, PG_PROC, PG_REWRITE, PG_TRIGGER, PG_TYPE,
};
use crate::catalog::{
    Aggregate, Attribute, Cast, Collation, CompositeType, Domain, EventTrigger, ForeignColumn,
    ForeignTable, Function, Object, ObjectId, Operator, Policy, QualifiedName, RangeType,
    RoutineKind, Rule, Server, Trigger, TriggerState, View,
};

fn qualified(r: &CatalogRow, schema: usize) -> QualifiedName {
    QualifiedName::new(r.get::<String>(schema), r.get::<String>(schema + 1))
}

pub fn view(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 1);
    oids.register(PG_CLASS, r.get(0), 0, ObjectId::View(name.clone()));
    let names: Vec<String> = r.get(6);
    let types: Vec<String> = r.get(7);
    let definition: String = r.get(4);
    Object::View(View {
        name,
        materialized: r.get(3),
        definition: definition.trim().trim_end_matches(';').trim_end().to_string(),
        options: r.get(5),
        columns: names.into_iter().zip(types).collect(),
        populated: r.get(8),
        comment: r.get(9),
        column_comments: column_comments(r, 6, 10),
        column_defaults: column_comments(r, 6, 11),
        refers_to_itself: false,
    })
}

/// The names of `CREATE AGGREGATE` options in the order `functions.sql` reads them.
const AGGREGATE_OPTIONS: [&str; 16] = [
    "SFUNC",
    "STYPE",
    "SSPACE",
    "FINALFUNC",
    "FINALFUNC_EXTRA",
    "COMBINEFUNC",
    "SERIALFUNC",
    "DESERIALFUNC",
    "INITCOND",
    "MSFUNC",
    "MINVFUNC",
    "MSTYPE",
    "MFINALFUNC",
    "MINITCOND",
    "SORTOP",
    "PARALLEL",
];

pub fn function(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 1);
    let identity_arguments: String = r.get(3);
    let argument_types: String = r.get(12);
    oids.register(PG_PROC, r.get(0), 0, ObjectId::Function(name.clone(), r.name(12)));
    let kind = match r.get::<String>(4).as_str() {
        "p" => RoutineKind::Procedure,
        "a" => RoutineKind::Aggregate,
        _ => RoutineKind::Function,
    };
    let aggregate = (kind == RoutineKind::Aggregate).then(|| {
        let values: Vec<Option<String>> = r.get(11);
        Aggregate {
            options: AGGREGATE_OPTIONS
                .iter()
                .zip(values)
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
                .collect(),
        }
    });
    let definition: Option<String> = r.get(5);
    Object::Function(Function {
        name,
        argument_types,
        identity_arguments,
        kind,
        definition: definition.unwrap_or_default().trim_end().to_string(),
        arguments: r.get(6),
        result: r.get(7),
        language: r.get(8),
        body: r.get(9),
        aggregate,
        comment: r.get(10),
    })
}

pub fn trigger(r: &CatalogRow, oids: &mut Oids) -> Object {
    let table = qualified(r, 1);
    let name: String = r.get(3);
    oids.register(PG_TRIGGER, r.get(0), 0, ObjectId::Trigger(table.clone(), r.name(3)));
    let state = match r.get::<String>(5).as_str() {
        "D" => TriggerState::Disabled,
        "R" => TriggerState::Replica,
        "A" => TriggerState::Always,
        _ => TriggerState::Enabled,
    };
    Object::Trigger(Trigger { table, name, definition: r.get(4), state, comment: r.get(6) })
}

pub fn policy(r: &CatalogRow, oids: &mut Oids) -> Object {
    let table = qualified(r, 1);
    let name: String = r.get(3);
    oids.register(PG_POLICY, r.get(0), 0, ObjectId::Policy(table.clone(), r.name(3)));
    Object::Policy(Policy {
        table,
        name,
        permissive: r.get(4),
        command: r.get(5),
        roles: r.get(6),
        using: r.get(7),
        check: r.get(8),
        comment: r.get(9),
    })
}

pub fn domain(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 2);
    oids.register(PG_TYPE, r.get(0), 0, ObjectId::Type(name.clone()));
    oids.register(PG_TYPE, r.get(1), 0, ObjectId::Type(name.clone()));
    let names: Vec<String> = r.get(8);
    let defs: Vec<String> = r.get(9);
    Object::Domain(Domain {
        name,
        base_type: r.get(4),
        collation: r.get(5),
        default: r.get(6),
        not_null: r.get(7),
        constraints: names.into_iter().zip(defs).collect::<BTreeMap<_, _>>(),
        comment: r.get(10),
    })
}

pub fn composite(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 3);
    let id = ObjectId::Type(name.clone());
    oids.register(PG_TYPE, r.get(0), 0, id.clone());
    oids.register(PG_TYPE, r.get(1), 0, id.clone());
    oids.register(PG_CLASS, r.get(2), 0, id);
    let names: Vec<String> = r.get(5);
    let types: Vec<String> = r.get(6);
    let collations: Vec<Option<String>> = r.get(7);
    let attributes = names
        .into_iter()
        .zip(types)
        .zip(collations)
        .map(|((name, type_sql), collation)| Attribute { name, type_sql, collation })
        .collect();
    Object::Composite(CompositeType {
        name,
        attributes,
        comment: r.get(8),
        column_comments: column_comments(r, 5, 9),
    })
}

pub fn collation(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 1);
    oids.register(PG_COLLATION, r.get(0), 0, ObjectId::Collation(name.clone()));
    Object::Collation(Collation {
        name,
        provider: r.get(3),
        lc_collate: r.get(4),
        lc_ctype: r.get(5),
        locale: r.get(6),
        deterministic: r.get(7),
        comment: r.get(8),
    })
}

/// Column name -> comment (or another per-column text), for the columns that have one.
fn column_comments(r: &CatalogRow, names: usize, comments: usize) -> BTreeMap<String, String> {
    let names: Vec<String> = r.get(names);
    let comments: Vec<Option<String>> = r.get(comments);
    names.into_iter().zip(comments).filter_map(|(n, c)| c.map(|c| (n, c))).collect()
}

pub fn rule(r: &CatalogRow, oids: &mut Oids) -> Object {
    let table = qualified(r, 1);
    let name: String = r.get(3);
    oids.register(PG_REWRITE, r.get(0), 0, ObjectId::Rule(table.clone(), r.name(3)));
    let definition: String = r.get(4);
    Object::Rule(Rule {
        table,
        name,
        definition: definition.trim_end().trim_end_matches(';').to_string(),
        comment: r.get(5),
    })
}

pub fn operator(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 1);
    let arguments: String = r.get(3);
    oids.register(PG_OPERATOR, r.get(0), 0, ObjectId::Operator(name.clone(), r.name(3)));
    Object::Operator(Operator {
        name,
        arguments,
        left: r.get(4),
        right: r.get(5),
        function: r.get(6),
        commutator: r.get(7),
        negator: r.get(8),
        restrict: r.get(9),
        join: r.get(10),
        hashes: r.get(11),
        merges: r.get(12),
        comment: r.get(13),
    })
}

pub fn cast(r: &CatalogRow, oids: &mut Oids) -> Object {
    let (source, target): (String, String) = (r.get(1), r.get(2));
    oids.register(PG_CAST, r.get(0), 0, ObjectId::Cast(r.name(1), r.name(2)));
    Object::Cast(Cast {
        source,
        target,
        function: r.get(3),
        method: r.get(4),
        context: r.get(5),
        comment: r.get(6),
    })
}

pub fn server(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name: String = r.get(1);
    oids.register(PG_FOREIGN_SERVER, r.get(0), 0, ObjectId::Server(r.name(1)));
    Object::Server(Server {
        name,
        wrapper: r.get(2),
        server_type: r.get(3),
        version: r.get(4),
        options: r.get(5),
        comment: r.get(6),
    })
}

pub fn foreign_table(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 2);
    oids.register(PG_CLASS, r.get(0), 0, ObjectId::ForeignTable(name.clone()));
    oids.register(PG_TYPE, r.get(1), 0, ObjectId::ForeignTable(name.clone()));
    let names: Vec<String> = r.get(6);
    let types: Vec<String> = r.get(7);
    let collations: Vec<Option<String>> = r.get(8);
    let not_null: Vec<bool> = r.get(9);
    let defaults: Vec<Option<String>> = r.get(10);
    let options: Vec<Option<String>> = r.get(11);
    let columns = (0..names.len())
        .map(|i| ForeignColumn {
            name: names[i].clone(),
            type_sql: types[i].clone(),
            collation: collations[i].clone(),
            not_null: not_null[i],
            default: defaults[i].clone(),
            options: options[i]
                .as_deref()
                .map(|o| o.split('\x1f').map(str::to_string).collect())
                .unwrap_or_default(),
        })
        .collect();
    Object::ForeignTable(ForeignTable {
        name,
        server: r.get(4),
        columns,
        options: r.get(5),
        comment: r.get(12),
        column_comments: column_comments(r, 6, 13),
    })
}

pub fn range(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name = qualified(r, 3);
    for i in 0..3 {
        oids.register(PG_TYPE, r.get(i), 0, ObjectId::Type(name.clone()));
    }
    const OPTIONS: [&str; 5] =
        ["SUBTYPE_OPCLASS", "COLLATION", "CANONICAL", "SUBTYPE_DIFF", "MULTIRANGE_TYPE_NAME"];
    let values: Vec<Option<String>> = r.get(6);
    let options =
        OPTIONS.iter().zip(values).filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
    Object::Range(RangeType { name, subtype: r.get(5), options, comment: r.get(7) })
}

pub fn event_trigger(r: &CatalogRow, oids: &mut Oids) -> Object {
    let name: String = r.get(1);
    oids.register(PG_EVENT_TRIGGER, r.get(0), 0, ObjectId::EventTrigger(r.name(1)));
    Object::EventTrigger(EventTrigger {
        name,
        event: r.get(2),
        tags: r.get(3),
        function: r.get(4),
        enabled: r.get(5),
        comment: r.get(6),
    })
}
