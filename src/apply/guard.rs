//! What a down file would lose. Its steps marked `DELETES_DATA` are checked against what the
//! database holds now: a dropped table with rows, a dropped column with values other than its
//! default, a type change some value does not survive. `down` runs such a step only when the
//! hazard is allowed; one that would lose nothing (the column it drops was added empty by the
//! up) runs without asking.

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};
use tokio_postgres::Client;

use crate::error::Result;

/// One step of a down file that would delete data the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The hazard's reason, from the file.
    pub reason: String,
    /// The statement that would lose it.
    pub statement: String,
}

/// The `DELETES_DATA` steps of `sql` that would lose data `client`'s database holds.
pub async fn losses(client: &Client, sql: &str) -> Result<Vec<Loss>> {
    let mut out = Vec::new();
    for (reason, statements) in marked_steps(sql) {
        let mut probes = Vec::new();
        for s in &statements {
            match probe(s) {
                Some(Probe::Query(q)) => probes.push(q),
                Some(Probe::DroppedColumn { table, column }) => {
                    probes.push(dropped_column(client, &table, &column).await)
                }
                None => {}
            }
        }
        let statement = statements.first().cloned().unwrap_or_default();
        if probes.is_empty() {
            // Nothing we know how to check: assume the worst.
            out.push(Loss { reason, statement });
            continue;
        }
        for p in probes {
            // A probe that fails (a value that does not fit the type) is a loss too.
            let holds = match client.query_one(p.as_str(), &[]).await {
                Ok(row) => row.get::<_, bool>(0),
                Err(_) => true,
            };
            if holds {
                out.push(Loss { reason: reason.clone(), statement: statement.clone() });
                break;
            }
        }
    }
    Ok(out)
}

/// Whether a column holds a value other than what filled it when it was added (the value
/// PostgreSQL keeps for rows older than the column) or its constant default: only such a
/// value is data that dropping the column loses.
async fn dropped_column(client: &Client, table: &str, column: &str) -> String {
    let filled = client
        .query_opt(
            "SELECT (a.attmissingval::text::text[])[1], pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1::text::regclass AND a.attname = $2",
            &[&table, &column.trim_matches('"').replace("\"\"", "\"")],
        )
        .await
        .ok()
        .flatten();
    let (missing, default): (Option<String>, Option<String>) =
        filled.map_or((None, None), |r| (r.get(0), r.get(1)));
    let mut kept = vec![format!("{column} IS NULL")];
    if let Some(m) = missing {
        kept.push(format!("{column}::text = '{}'", m.replace('\'', "''")));
    }
    if let Some(d) = default.filter(|d| is_constant(d)) {
        kept.push(format!("{column} = ({d})"));
    }
    format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE NOT ({}))", kept.join(" OR "))
}

/// A literal, possibly cast (`'x'::text`, `0`, `false`): the same value in every row.
fn is_constant(expr: &str) -> bool {
    static CONSTANT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^\(*('(?:[^']|'')*'|-?[0-9]+(?:\.[0-9]+)?|true|false)\)*(::[a-z ]+(\[\])?)*$",
        )
        .expect("a valid pattern")
    });
    CONSTANT.is_match(expr.trim())
}

/// How to tell whether a statement would lose data.
enum Probe {
    /// A query whose one boolean says it would.
    Query(String),
    /// A column dropped: compared with what filled it, which must be looked up first.
    DroppedColumn { table: String, column: String },
}

/// Each step marked `-- hazard DELETES_DATA: reason`, with the statements of that step (up to
/// the blank line that ends it), settings and transaction boundaries left out.
fn marked_steps(sql: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut statement = String::new();
    for line in sql.lines() {
        if let Some(reason) = line.strip_prefix("-- hazard DELETES_DATA: ") {
            out.extend(current.take());
            current = Some((reason.to_string(), Vec::new()));
            continue;
        }
        let Some((_, statements)) = current.as_mut() else { continue };
        if line.starts_with("--") {
            continue;
        }
        if line.trim().is_empty() && statement.is_empty() && !statements.is_empty() {
            out.extend(current.take());
            continue;
        }
        statement.push_str(line);
        statement.push('\n');
        if line.trim_end().ends_with(';')
            && pg_query::parse(&statement, pg_query::ParserOptions::DEFAULT).is_ok()
        {
            let s = statement.trim().to_string();
            statement.clear();
            let upper = s.to_ascii_uppercase();
            if !(upper.starts_with("SET ") || upper == "BEGIN;" || upper == "COMMIT;") {
                statements.push(s);
            }
        }
    }
    out.extend(current);
    out
}

/// A query that says whether `statement` would lose data the database holds now, for the
/// statements a down file loses data with; `None` for others.
fn probe(statement: &str) -> Option<Probe> {
    let tree = pg_query::parse(statement, pg_query::ParserOptions::DEFAULT).ok()?;
    let node = tree.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    match node {
        NodeEnum::DropStmt(d) if d.remove_type() == ObjectType::ObjectTable => {
            let tables: Vec<String> = d.objects.iter().filter_map(names).collect();
            let any: Vec<String> =
                tables.iter().map(|t| format!("EXISTS (SELECT 1 FROM {t})")).collect();
            (!any.is_empty()).then(|| Probe::Query(format!("SELECT {}", any.join(" OR "))))
        }
        NodeEnum::DropStmt(d) if d.remove_type() == ObjectType::ObjectSequence => {
            let seqs: Vec<String> = d.objects.iter().filter_map(names).collect();
            let any: Vec<String> =
                seqs.iter().map(|s| format!("(SELECT is_called FROM {s})")).collect();
            (!any.is_empty()).then(|| Probe::Query(format!("SELECT {}", any.join(" OR "))))
        }
        NodeEnum::AlterTableStmt(a) => {
            let rel = a.relation.as_ref()?;
            let table = relation(&rel.schemaname, &rel.relname);
            let cmd = a.cmds.first()?;
            let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else { return None };
            let column = quote(&cmd.name);
            match cmd.subtype() {
                AlterTableType::AtDropColumn => Some(Probe::DroppedColumn { table, column }),
                AlterTableType::AtAlterColumnType => {
                    // The new type and the USING expression, as render writes them.
                    let (_, rest) = statement.split_once(" TYPE ")?;
                    let rest = rest.trim_end().trim_end_matches(';');
                    let (type_sql, using) = match rest.split_once(" USING ") {
                        Some((t, u)) => (t, u.to_string()),
                        None => (rest, column.clone()),
                    };
                    let type_sql = type_sql.split(" COLLATE ").next().unwrap_or(type_sql);
                    Some(Probe::Query(format!(
                        "SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} IS NOT NULL \
                         AND ({using})::{type_sql}::text IS DISTINCT FROM {column}::text)"
                    )))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A qualified name from a parser name list.
fn names(node: &pg_query::protobuf::Node) -> Option<String> {
    let Some(NodeEnum::List(list)) = node.node.as_ref() else { return None };
    let parts: Vec<String> = list
        .items
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(quote(&s.sval)),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("."))
}

fn relation(schema: &str, name: &str) -> String {
    match schema {
        "" => quote(name),
        s => format!("{}.{}", quote(s), quote(name)),
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_marked_step_is_found_with_its_statements() {
        let sql = "SET lock_timeout = '5s';\n\nBEGIN;\n\n\
                   -- hazard DELETES_DATA: drops column public.t.c and the data in it\n\
                   -- takes ACCESS EXCLUSIVE lock on public.t\n\
                   ALTER TABLE public.t DROP COLUMN c;\n\n\
                   ALTER TABLE public.t ADD COLUMN d int;\n\n\
                   -- hazard DELETES_DATA: changing public.t.n ...\n\
                   SET statement_timeout = '1h';\n\
                   ALTER TABLE public.t ALTER COLUMN n DROP DEFAULT;\n\
                   ALTER TABLE public.t ALTER COLUMN n TYPE integer USING n::integer;\n\
                   SET statement_timeout = '1min';\n\nCOMMIT;\n";
        let steps = marked_steps(sql);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(steps[0].1, ["ALTER TABLE public.t DROP COLUMN c;"]);
        assert_eq!(steps[1].1.len(), 2);
        assert!(matches!(
            probe(&steps[0].1[0]),
            Some(Probe::DroppedColumn { table, column }) if table == "\"public\".\"t\"" && column == "\"c\""
        ));
        let Some(Probe::Query(retype)) = probe(&steps[1].1[1]) else { panic!("no probe") };
        assert!(
            retype.contains("(n::integer)::integer::text IS DISTINCT FROM \"n\"::text"),
            "{retype}"
        );
        assert!(probe("ALTER TABLE public.t ALTER COLUMN n DROP DEFAULT;").is_none());
        assert!(is_constant("'x'::text") && is_constant("0") && is_constant("'{}'::text[]"));
        assert!(!is_constant("now()") && !is_constant("nextval('s'::regclass)"));
    }
}
