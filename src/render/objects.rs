//! One function from a change to its statements; each object kind is a few lines here.

use super::columns::{alterations, definition, keep_in_bounds, sequence_options};
use super::{access, columns, definitions};
use super::{ident, literal, qualified};
use crate::catalog::{
    Constraint, ConstraintKind, QualifiedName, ReplicaIdentity, Table, TableProperties,
};
use crate::catalog::{Name, ObjectId};
use crate::diff::{Busy, Change, CommentTarget, made_with};

/// `CREATE INDEX` from PostgreSQL's own definition (`pg_get_indexdef`), under `name`.
///
/// A partitioned table's index is read back `ON ONLY` the parent; created without ONLY it is
/// built on every partition too, as the desired state has it.
fn create_index(index: &crate::catalog::Index, name: &str, concurrently: bool) -> String {
    let definition = index.definition.replacen(" ON ONLY ", " ON ", 1);
    let unique = definition.starts_with("CREATE UNIQUE INDEX ");
    let prefix = if unique { "CREATE UNIQUE INDEX " } else { "CREATE INDEX " };
    // pg_get_indexdef writes `CREATE [UNIQUE] INDEX <name> ON ...`, the name quoted as needed.
    let rest = definition.strip_prefix(prefix).and_then(|r| {
        r.strip_prefix(ident(&index.name.name).as_str()).filter(|r| r.starts_with(" ON "))
    });
    match rest {
        Some(rest) => format!(
            "{prefix}{}{}{rest};",
            if concurrently { "CONCURRENTLY IF NOT EXISTS " } else { "" },
            ident(name)
        ),
        None => format!("{definition};"),
    }
}

/// `ALTER TABLE ... ADD CONSTRAINT`; `online` on a table in use: a check or foreign key
/// `NOT VALID` (validated by a step of its own), a key `USING INDEX` of the index built
/// concurrently under its name before.
fn add_constraint(table: &QualifiedName, constraint: &Constraint, online: bool) -> String {
    let head =
        format!("ALTER TABLE {} ADD CONSTRAINT {}", qualified(table), ident(&constraint.name));
    let definition = &constraint.definition;
    if !online {
        return format!("{head} {definition};");
    }
    match constraint.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            let key = if constraint.kind == ConstraintKind::PrimaryKey {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let deferrable = if definition.contains(" INITIALLY DEFERRED") {
                " DEFERRABLE INITIALLY DEFERRED"
            } else if definition.contains(" DEFERRABLE") {
                " DEFERRABLE"
            } else {
                ""
            };
            format!("{head} {key} USING INDEX {}{deferrable};", ident(&constraint.name))
        }
        _ if definition.ends_with(" NOT VALID") => format!("{head} {definition};"),
        _ => format!("{head} {definition} NOT VALID;"),
    }
}

/// Pages one backfill batch covers (8 MB of table): each batch commits, so no lock or row
/// version is held longer than one batch takes.
const BACKFILL_PAGES: u32 = 1000;

/// Copies `from` into `column` over the whole table, a range of pages at a time (a TID range
/// scan since PostgreSQL 14), committing after each; rows already equal are skipped, so the
/// statement can run again after an interruption. Rows written meanwhile are kept in step by
/// the rename's trigger. A `DO` block may commit when it runs outside a transaction, as here.
fn backfill(table: &QualifiedName, column: &str, from: &str) -> String {
    let (t, c, f) = (qualified(table), ident(column), ident(from));
    format!(
        "DO $backfill$\nDECLARE\n  pages bigint := pg_relation_size({rel}::regclass) / current_setting('block_size')::bigint;\n  \
         page bigint := 0;\nBEGIN\n  WHILE page <= pages LOOP\n    \
         UPDATE {t} SET {c} = {f}\n     \
         WHERE ctid >= format('(%s,0)', page)::tid AND ctid < format('(%s,0)', page + {BACKFILL_PAGES})::tid\n       \
         AND {c} IS DISTINCT FROM {f};\n    COMMIT;\n    page := page + {BACKFILL_PAGES};\n  END LOOP;\nEND\n$backfill$;",
        rel = literal(&t),
    )
}

/// `ALTER <kind> ... RENAME`; columns and constraints through their table.
fn rename(from: &ObjectId, to: &str, keyword: &str) -> String {
    match from {
        ObjectId::Column(t, c) => {
            format!("ALTER TABLE {} RENAME COLUMN {} TO {};", qualified(t), ident(c), ident(to))
        }
        ObjectId::Constraint(t, c) => columns::rename_constraint(t, c, to),
        ObjectId::Function(n, args) => {
            format!("ALTER {keyword} {}({args}) RENAME TO {};", qualified(n), ident(to))
        }
        ObjectId::Table(n)
        | ObjectId::Index(n)
        | ObjectId::Sequence(n)
        | ObjectId::View(n)
        | ObjectId::Type(n) => format!("ALTER {keyword} {} RENAME TO {};", qualified(n), ident(to)),
        other => unreachable!("no rename is planned for {other}"),
    }
}

pub fn statements(change: &Change) -> Vec<String> {
    match change {
        Change::CreateSchema(s) => vec![format!("CREATE SCHEMA {};", ident(&s.name))],
        Change::DropSchema { schema, .. } => vec![format!("DROP SCHEMA {};", ident(&schema.name))],
        Change::CreateExtension(e) => {
            let version =
                if e.pinned { format!(" VERSION {}", literal(&e.version)) } else { String::new() };
            vec![format!(
                "CREATE EXTENSION {} WITH SCHEMA {}{version};",
                ident(&e.name),
                ident(&e.schema)
            )]
        }
        Change::UpdateExtension { name, to, .. } => {
            vec![format!("ALTER EXTENSION {} UPDATE TO {};", ident(name), literal(to))]
        }
        Change::DropExtension(e) => vec![format!("DROP EXTENSION {};", ident(&e.name))],
        Change::AlterExtensionSchema { name, schema, .. } => {
            vec![format!("ALTER EXTENSION {} SET SCHEMA {};", ident(name), ident(schema))]
        }
        Change::CreateEnum(e) => vec![create_enum(&e.name, &e.labels)],
        Change::DropEnum(e) => vec![format!("DROP TYPE {};", qualified(&e.name))],
        Change::AddEnumValue { name, value, before, after } => vec![match (before, after) {
            (Some(b), _) => format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {} BEFORE {};",
                qualified(name),
                literal(value),
                literal(b)
            ),
            (None, Some(a)) => format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {} AFTER {};",
                qualified(name),
                literal(value),
                literal(a)
            ),
            (None, None) => format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {};",
                qualified(name),
                literal(value)
            ),
        }],
        Change::RenameEnumValue { name, from, to } => vec![format!(
            "ALTER TYPE {} RENAME VALUE {} TO {};",
            qualified(name),
            literal(from),
            literal(to)
        )],
        Change::RecreateEnum { from, to, columns } => {
            let old = QualifiedName::new(from.name.schema.clone(), old_name(&from.name.name));
            let mut out = vec![
                format!("ALTER TYPE {} RENAME TO {};", qualified(&from.name), ident(&old.name)),
                create_enum(&to.name, &to.labels),
            ];
            for c in columns {
                let column = format!(
                    "ALTER TABLE {} ALTER COLUMN {}",
                    qualified(&c.table),
                    ident(&c.column)
                );
                if c.default_before.is_some() {
                    out.push(format!("{column} DROP DEFAULT;"));
                }
                let via = if c.type_sql.ends_with("[]") { "text[]" } else { "text" };
                out.push(format!(
                    "{column} TYPE {ty} USING {col}::{via}::{ty};",
                    ty = c.type_sql,
                    col = ident(&c.column)
                ));
                if let Some(d) = &c.default_after {
                    out.push(format!("{column} SET DEFAULT {d};"));
                }
            }
            out.push(format!("DROP TYPE {};", qualified(&old)));
            out
        }
        Change::CreateSequence(s) => {
            let options = sequence_options(&s.options, Some(&bigint_defaults(&s.options)), true);
            vec![format!("CREATE SEQUENCE {}{};", qualified(&s.name), prefixed(&options))]
        }
        Change::DropSequence(s) => vec![format!("DROP SEQUENCE {};", qualified(&s.name))],
        Change::AlterSequence { name, from, to } => {
            let options = sequence_options(to, Some(from), true);
            let alter = format!("ALTER SEQUENCE {}{};", qualified(name), prefixed(&options));
            keep_in_bounds(name, from, to).into_iter().chain([alter]).collect()
        }
        Change::SetSequenceOwner { name, owner, .. } => vec![format!(
            "ALTER SEQUENCE {} OWNED BY {};",
            qualified(name),
            match owner {
                Some((table, column)) => format!("{}.{}", qualified(table), ident(column)),
                None => "NONE".to_string(),
            }
        )],
        Change::CreateTable { table, later } => vec![create_table(table, later)],
        Change::DropTable { table, .. } => vec![format!("DROP TABLE {};", qualified(&table.name))],
        Change::AddColumn { table, column, .. } => vec![format!(
            "ALTER TABLE {} ADD COLUMN {};",
            qualified(table),
            definition(table, column)
        )],
        Change::DropColumn { table, column, .. } => {
            vec![format!("ALTER TABLE {} DROP COLUMN {};", qualified(table), ident(&column.name))]
        }
        Change::AlterColumn { table, from, actions, .. } => alterations(table, from, actions),
        Change::AddConstraint { table, constraint, busy } => {
            vec![add_constraint(table, constraint, *busy == Busy::Online)]
        }
        Change::DropConstraint { table, constraint } => vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {};",
            qualified(table),
            ident(&constraint.name)
        )],
        // Outside a transaction each statement stands alone, so each can run again after a
        // failure: a build first drops what a failed one left (an invalid index).
        Change::CreateIndex { index, busy: Busy::Online } => vec![
            format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&index.name)),
            create_index(index, &index.name.name, true),
        ],
        Change::CreateIndex { index, .. } => vec![create_index(index, &index.name.name, false)],
        Change::DropIndex { index, busy: Busy::Online } => {
            vec![format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&index.name))]
        }
        Change::DropIndex { index, .. } => vec![format!("DROP INDEX {};", qualified(&index.name))],
        Change::ReplaceIndex { from, to } => {
            let temporary = crate::catalog::with_suffix(&to.name.name, "__new");
            let temporary_name = QualifiedName::new(to.name.schema.clone(), temporary.clone());
            vec![
                format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&temporary_name)),
                create_index(to, &temporary, true),
                format!("DROP INDEX CONCURRENTLY IF EXISTS {};", qualified(&from.name)),
                format!(
                    "ALTER INDEX IF EXISTS {} RENAME TO {};",
                    qualified(&temporary_name),
                    ident(&to.name.name)
                ),
            ]
        }
        Change::Backfill { table, column, from, .. } => vec![backfill(table, column, from)],
        Change::Rename { from, to, keyword } => vec![rename(from, to, keyword)],
        Change::ValidateConstraint { table, name } => {
            vec![format!("ALTER TABLE {} VALIDATE CONSTRAINT {};", qualified(table), ident(name))]
        }
        Change::ProveNotNull { table, column, check } => vec![format!(
            "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID;",
            qualified(table),
            ident(check),
            ident(column)
        )],
        Change::SetNotNullProven { table, column, check, rename } => {
            let name = qualified(table);
            let mut out = vec![
                format!("ALTER TABLE {name} VALIDATE CONSTRAINT {};", ident(check)),
                format!("ALTER TABLE {name} ALTER COLUMN {} SET NOT NULL;", ident(column)),
            ];
            if let Some((from, to)) = rename {
                out.push(columns::rename_constraint(table, from, to));
            }
            out.push(format!("ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {};", ident(check)));
            out
        }
        Change::SetRowSecurity { table, enabled, forced } => row_security(table, *enabled, *forced),
        Change::SetTableProperties { table, from, to } => table_properties(table, from, to),
        Change::AttachPartition { table, partition } => vec![format!(
            "ALTER TABLE {} ATTACH PARTITION {} {};",
            qualified(&partition.parent),
            qualified(table),
            partition.bound
        )],
        Change::DetachPartition { table, parent } => vec![format!(
            "ALTER TABLE {} DETACH PARTITION {};",
            qualified(parent),
            qualified(table)
        )],
        Change::SetInherits { table, from, to, not_null_renames } => {
            let parent = |verb: &str, p: &QualifiedName| {
                format!("ALTER TABLE {} {verb} {};", qualified(table), qualified(p))
            };
            let no = from.iter().filter(|p| !to.contains(p)).map(|p| parent("NO INHERIT", p));
            let renames = (not_null_renames.iter())
                .map(|(from, to)| columns::rename_constraint(table, from, to));
            let yes = to.iter().filter(|p| !from.contains(p)).map(|p| parent("INHERIT", p));
            no.chain(renames).chain(yes).collect()
        }
        Change::SetAccess { id, keyword, owner, revoke, grant } => {
            access::set_access(id, keyword, owner, revoke, grant)
        }
        Change::CreateObject(o) => definitions::create(o),
        Change::DropObject(o) => definitions::drop(o),
        Change::ReplaceObject { from, to } => definitions::replace(from, to),
        Change::AlterObject { from, to } => definitions::alter(from, to),
        Change::Comment { target, comment } => {
            let target = match target {
                CommentTarget::Schema(s) => format!("SCHEMA {}", ident(s)),
                CommentTarget::Type(t) => format!("TYPE {}", qualified(t)),
                CommentTarget::Table(t) => format!("TABLE {}", qualified(t)),
                CommentTarget::Column(t, c) => format!("COLUMN {}.{}", qualified(t), ident(c)),
                CommentTarget::Constraint(t, c) => {
                    format!("CONSTRAINT {} ON {}", ident(c), qualified(t))
                }
                CommentTarget::Index(i) => format!("INDEX {}", qualified(i)),
                CommentTarget::Sequence(s) => format!("SEQUENCE {}", qualified(s)),
                CommentTarget::Object { id, kind } => {
                    format!("{} {}", kind.keyword(), definitions::comment_target(id, *kind))
                }
            };
            let text = comment.as_deref().map_or("NULL".to_string(), literal);
            vec![format!("COMMENT ON {target} IS {text};")]
        }
    }
}

fn create_enum(name: &QualifiedName, labels: &[String]) -> String {
    let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
    format!("CREATE TYPE {} AS ENUM ({});", qualified(name), labels.join(", "))
}

/// The name an enum is parked under while its replacement takes its place.
fn old_name(name: &str) -> String {
    let mut base = name.to_string();
    while base.len() > 63 - "__old".len() {
        base.pop();
    }
    format!("{base}__old")
}

/// What `CREATE SEQUENCE` assumes: bigint, and the defaults for the sequence's direction.
fn bigint_defaults(o: &crate::catalog::SequenceOptions) -> crate::catalog::SequenceOptions {
    let mut d = crate::catalog::SequenceOptions::defaults_for(&o.data_type, o.increment);
    d.data_type = "bigint".to_string();
    d.increment = 1;
    d
}

fn prefixed(options: &[String]) -> String {
    options.iter().map(|o| format!(" {o}")).collect()
}

/// `CREATE TABLE` with its columns and the constraints that need nothing else; a partition
/// or child table lists only what is its own.
fn create_table(t: &Table, later: &[Name]) -> String {
    let mut lines: Vec<String> = if t.partition_of.is_some() {
        Vec::new()
    } else {
        t.local_columns().map(|c| definition(&t.name, c)).collect()
    };
    let mut constraints: Vec<_> = made_with(t, later).collect();
    constraints.sort_by_key(|c| (c.kind != ConstraintKind::PrimaryKey, c.kind, c.name.clone()));
    for c in constraints {
        lines.push(format!("CONSTRAINT {} {}", ident(&c.name), c.definition));
    }
    let create = if t.unlogged { "CREATE UNLOGGED TABLE" } else { "CREATE TABLE" };
    let mut tail = String::new();
    if !t.inherits.is_empty() {
        let parents: Vec<String> = t.inherits.iter().map(qualified).collect();
        tail.push_str(&format!(" INHERITS ({})", parents.join(", ")));
    }
    if let Some(by) = &t.partition_by {
        tail.push_str(&format!(" PARTITION BY {by}"));
    }
    if !t.options.is_empty() {
        tail.push_str(&format!(" WITH ({})", t.options.join(", ")));
    }
    let name = qualified(&t.name);
    let body = if lines.is_empty() {
        String::new()
    } else {
        format!("(\n    {}\n)", lines.join(",\n    "))
    };
    match &t.partition_of {
        Some(p) => {
            let body = if body.is_empty() { body } else { format!(" {body}") };
            format!(
                "{create} {name} PARTITION OF {}{body} {}{tail};",
                qualified(&p.parent),
                p.bound
            )
        }
        None if body.is_empty() => format!("{create} {name} (){tail};"),
        None => format!("{create} {name} {body}{tail};"),
    }
}

/// `ENABLE`/`DISABLE` and `FORCE`/`NO FORCE ROW LEVEL SECURITY`, as one statement.
fn row_security(table: &QualifiedName, enabled: bool, forced: bool) -> Vec<String> {
    vec![format!(
        "ALTER TABLE {} {} ROW LEVEL SECURITY, {} ROW LEVEL SECURITY;",
        qualified(table),
        if enabled { "ENABLE" } else { "DISABLE" },
        if forced { "FORCE" } else { "NO FORCE" }
    )]
}

/// Persistence, storage parameters and replica identity, each changed only when it differs.
fn table_properties(
    table: &QualifiedName,
    from: &TableProperties,
    to: &TableProperties,
) -> Vec<String> {
    let name = qualified(table);
    let mut out = Vec::new();
    if from.unlogged != to.unlogged {
        out.push(format!(
            "ALTER TABLE {name} SET {};",
            if to.unlogged { "UNLOGGED" } else { "LOGGED" }
        ));
    }
    let key = |o: &String| o.split('=').next().unwrap_or_default().to_string();
    let reset: Vec<String> =
        from.options.iter().map(key).filter(|k| !to.options.iter().any(|o| key(o) == *k)).collect();
    if !reset.is_empty() {
        out.push(format!("ALTER TABLE {name} RESET ({});", reset.join(", ")));
    }
    let set: Vec<&String> = to.options.iter().filter(|o| !from.options.contains(o)).collect();
    if !set.is_empty() {
        let set: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
        out.push(format!("ALTER TABLE {name} SET ({});", set.join(", ")));
    }
    if from.replica_identity != to.replica_identity {
        let identity = match &to.replica_identity {
            ReplicaIdentity::Default => "DEFAULT".to_string(),
            ReplicaIdentity::Nothing => "NOTHING".to_string(),
            ReplicaIdentity::Full => "FULL".to_string(),
            ReplicaIdentity::Index(i) => format!("USING INDEX {}", ident(i)),
        };
        out.push(format!("ALTER TABLE {name} REPLICA IDENTITY {identity};"));
    }
    out
}
