//! Column definitions and in-place column alterations.

use super::{ident, literal, qualified};
use crate::catalog::{Column, Identity, QualifiedName, SequenceOptions, default_not_null_name};
use crate::diff::{Cast, ColumnAction};

/// `ALTER TABLE ... RENAME CONSTRAINT`.
pub fn rename_constraint(table: &QualifiedName, from: &str, to: &str) -> String {
    format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {};", qualified(table), ident(from), ident(to))
}

/// `name type [COLLATE c] [identity] [DEFAULT d] [GENERATED ...] [NOT NULL]`.
pub fn definition(table: &QualifiedName, c: &Column) -> String {
    let mut s = format!("{} {}", ident(&c.name), c.type_sql);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(i) = &c.identity {
        s.push_str(&format!(" {}", identity_clause(table, &c.name, i)));
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(g) = &c.generated {
        let kind = if c.generated_virtual { "VIRTUAL" } else { "STORED" };
        s.push_str(&format!(" GENERATED ALWAYS AS ({g}) {kind}"));
    }
    // PostgreSQL 18 names NOT NULL; a name of its own is said, the usual one is not.
    let named =
        (c.not_null_name.as_ref()).filter(|&n| *n != default_not_null_name(&table.name, &c.name));
    if let (true, Some(name)) = (c.not_null, named) {
        s.push_str(&format!(" CONSTRAINT {} NOT NULL", ident(name)));
    } else if c.not_null && c.identity.is_none() {
        s.push_str(" NOT NULL");
    }
    s
}

fn identity_clause(table: &QualifiedName, column: &str, i: &Identity) -> String {
    let kind = if i.always { "ALWAYS" } else { "BY DEFAULT" };
    let mut options = Vec::new();
    let default_name =
        QualifiedName::new(table.schema.clone(), format!("{}_{}_seq", table.name, column));
    if i.sequence_name != default_name {
        options.push(format!("SEQUENCE NAME {}", qualified(&i.sequence_name)));
    }
    options.extend(sequence_options(&i.options, None, false));
    if options.is_empty() {
        format!("GENERATED {kind} AS IDENTITY")
    } else {
        format!("GENERATED {kind} AS IDENTITY ({})", options.join(" "))
    }
}

/// The options of `o` that differ from `base` (from PostgreSQL's defaults when `base` is None).
/// `with_type` adds `AS type` when the type differs.
pub fn sequence_options(
    o: &SequenceOptions,
    base: Option<&SequenceOptions>,
    with_type: bool,
) -> Vec<String> {
    // Without a base, compare with what PostgreSQL picks: INCREMENT BY 1, and bounds and start
    // for the direction the sequence counts in.
    let mut defaults = SequenceOptions::defaults_for(&o.data_type, o.increment);
    defaults.increment = 1;
    let base = base.unwrap_or(&defaults);
    let mut out = Vec::new();
    if with_type && o.data_type != base.data_type {
        out.push(format!("AS {}", o.data_type));
    }
    if o.increment != base.increment {
        out.push(format!("INCREMENT BY {}", o.increment));
    }
    if o.min != base.min {
        out.push(format!("MINVALUE {}", o.min));
    }
    if o.max != base.max {
        out.push(format!("MAXVALUE {}", o.max));
    }
    if o.start != base.start {
        out.push(format!("START WITH {}", o.start));
    }
    if o.cache != base.cache {
        out.push(format!("CACHE {}", o.cache));
    }
    if o.cycle != base.cycle {
        out.push(if o.cycle { "CYCLE".into() } else { "NO CYCLE".into() });
    }
    out
}

/// One `ALTER TABLE ... ALTER COLUMN` statement per action.
pub fn alterations(table: &QualifiedName, from: &Column, actions: &[ColumnAction]) -> Vec<String> {
    let prefix = format!("ALTER TABLE {} ALTER COLUMN {}", qualified(table), ident(&from.name));
    actions
        .iter()
        .map(|a| {
            let action = match a {
                ColumnAction::DropDefault => "DROP DEFAULT".to_string(),
                ColumnAction::DropIdentity => "DROP IDENTITY".to_string(),
                ColumnAction::DropExpression => "DROP EXPRESSION".to_string(),
                ColumnAction::SetType { type_sql, collation, cast, .. } => {
                    let mut s = format!("TYPE {type_sql}");
                    match collation {
                        Some(c) => s.push_str(&format!(" COLLATE {c}")),
                        None if from.collation.is_some() => {
                            s.push_str(" COLLATE pg_catalog.\"default\"")
                        }
                        None => {}
                    }
                    let column = ident(&from.name);
                    match cast {
                        Cast::Assignment => {}
                        Cast::Explicit => s.push_str(&format!(" USING {column}::{type_sql}")),
                        Cast::ViaText => {
                            let text = if type_sql.ends_with("[]") { "text[]" } else { "text" };
                            s.push_str(&format!(" USING {column}::{text}::{type_sql}"));
                        }
                    }
                    s
                }
                ColumnAction::SetDefault { default, continues: None } => format!("SET DEFAULT {default}"),
                // Existing rows keep their values: the sequence continues after the largest.
                ColumnAction::SetDefault { default, continues: Some(sequence) } => format!(
                    "SET DEFAULT {default};\nSELECT setval({}, max({})) FROM {} HAVING max({}) IS NOT NULL",
                    literal(&qualified(sequence)),
                    ident(&from.name),
                    qualified(table),
                    ident(&from.name)
                ),
                ColumnAction::AddIdentity { always, options, sequence } => {
                    let identity = Identity {
                        always: *always,
                        sequence_name: sequence.clone(),
                        options: options.clone(),
                    };
                    // Existing rows keep their values: the identity continues after the largest.
                    format!(
                        "ADD {};\nSELECT setval(pg_get_serial_sequence({}, {}), max({})) FROM {} HAVING max({}) IS NOT NULL",
                        identity_clause(table, &from.name, &identity),
                        literal(&qualified(table)),
                        literal(&from.name),
                        ident(&from.name),
                        qualified(table),
                        ident(&from.name)
                    )
                }
                ColumnAction::SetIdentityKind { always } => {
                    format!("SET GENERATED {}", if *always { "ALWAYS" } else { "BY DEFAULT" })
                }
                ColumnAction::SetIdentityOptions(o) => {
                    let base = from.identity.as_ref().map(|i| &i.options);
                    sequence_options(o, base, false)
                        .into_iter()
                        .map(|opt| format!("SET {opt}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
                ColumnAction::DropNotNull => "DROP NOT NULL".to_string(),
                ColumnAction::SetStorage(letter) => format!(
                    "SET STORAGE {}",
                    match letter {
                        'p' => "PLAIN",
                        'e' => "EXTERNAL",
                        'm' => "MAIN",
                        _ => "EXTENDED",
                    }
                ),
                ColumnAction::SetCompression(method) => format!(
                    "SET COMPRESSION {}",
                    match method {
                        Some('p') => "pglz",
                        Some('l') => "lz4",
                        _ => "DEFAULT",
                    }
                ),
                ColumnAction::SetStatistics(target) => {
                    format!("SET STATISTICS {}", target.unwrap_or(-1))
                }
                ColumnAction::SetNotNull => "SET NOT NULL".to_string(),
                ColumnAction::RenameNotNull { from, to } => {
                    return rename_constraint(table, from, to);
                }
            };
            // A bound that moves past the sequence's position moves the position first.
            match (a, &from.identity) {
                (ColumnAction::SetIdentityOptions(o), Some(i)) => {
                    let moves = keep_in_bounds(&i.sequence_name, &i.options, o);
                    moves.into_iter().chain([format!("{prefix} {action};")]).collect::<Vec<_>>().join("\n")
                }
                _ => format!("{prefix} {action};"),
            }
        })
        .collect()
}

/// When a sequence's new bound lies past its position (a MINVALUE raised above where an
/// ascending sequence stands, a MAXVALUE lowered below a descending one), PostgreSQL refuses
/// the change: the position moves to the bound first. Every value handed out lies on the
/// other side of it, so none is handed out twice.
pub fn keep_in_bounds(
    sequence: &QualifiedName,
    from: &SequenceOptions,
    to: &SequenceOptions,
) -> Option<String> {
    let name = qualified(sequence);
    if to.increment > 0 && to.min > from.min {
        Some(format!(
            "SELECT setval({}, {min}, false) FROM {name} WHERE last_value < {min};",
            literal(&name),
            min = to.min
        ))
    } else if to.increment < 0 && to.max < from.max {
        Some(format!(
            "SELECT setval({}, {max}, false) FROM {name} WHERE last_value > {max};",
            literal(&name),
            max = to.max
        ))
    } else {
        None
    }
}
