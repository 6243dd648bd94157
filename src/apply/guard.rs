//! `down`'s data guard: a step its plan marked `DELETES_DATA` runs only when the data it
//! would delete is not there (a table without rows, a column holding nothing but nulls or
//! its default), or when that hazard is allowed. The check runs in the step's own
//! transaction, just before it.

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};
use tokio_postgres::Client;

use crate::error::{Error, Location, Result};
use crate::render::guard::{LIMIT, rows_query, values_query};

/// Refuses the statement at byte `at` of `sql` when its plan marked it as deleting data
/// (the comment lines right above it say so) and that data is there.
pub(crate) async fn check(
    client: &Client,
    sql: &str,
    at: usize,
    statement: &str,
    since: Option<i64>,
    location: Location,
) -> Result<()> {
    let above = sql[..at].lines().rev().skip_while(|l| l.trim().is_empty());
    let mut comments = above.take_while(|l| l.trim_start().starts_with("--"));
    if !comments.any(|l| l.trim_start().starts_with("-- hazard DELETES_DATA")) {
        return Ok(());
    }
    match data_at_risk(client, statement, since).await? {
        None => Ok(()),
        Some(data) => Err(Error::Migrations(format!(
            "{location}: down stopped before deleting data: {data}{}. \
             If it may go, run `schemadiff down --allow-hazards DELETES_DATA`",
            if since.is_some() { ", written since the migration was applied" } else { "" }
        ))),
    }
}

/// What `statement` would delete that is there now, said for a person; None when nothing.
async fn data_at_risk(
    client: &Client,
    statement: &str,
    since: Option<i64>,
) -> Result<Option<String>> {
    let Ok(tree) = pg_query::parse(statement, pg_query::ParserOptions::DEFAULT) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for raw in &tree.protobuf.stmts {
        match raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
            Some(NodeEnum::DropStmt(drop))
                if drop.remove_type == ObjectType::ObjectTable as i32 =>
            {
                for object in &drop.objects {
                    let Some((schema, table)) = name_of(object) else { continue };
                    let rows = count(client, &rows_query(&schema, &table, since)).await?;
                    if rows > 0 {
                        found.push(format!("{schema}.{table} holds {}", amount(rows, "row")));
                    }
                }
            }
            Some(NodeEnum::AlterTableStmt(alter)) => {
                let Some(relation) = &alter.relation else { continue };
                let schema =
                    if relation.schemaname.is_empty() { "public" } else { &relation.schemaname };
                for cmd in &alter.cmds {
                    let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else { continue };
                    if cmd.subtype != AlterTableType::AtDropColumn as i32 {
                        continue;
                    }
                    let Some(default) =
                        made_by_default(client, schema, &relation.relname, &cmd.name).await?
                    else {
                        continue;
                    };
                    let query = values_query(
                        schema,
                        &relation.relname,
                        &cmd.name,
                        default.as_deref(),
                        since,
                    );
                    let values = count(client, &query).await?;
                    if values > 0 {
                        found.push(format!(
                            "{schema}.{}.{} holds {}{}",
                            relation.relname,
                            cmd.name,
                            amount(values, "value"),
                            if default.is_some() { " that are not its default" } else { "" }
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok((!found.is_empty()).then(|| found.join(", ")))
}

/// `schema.name` of a dropped object's name list.
fn name_of(object: &pg_query::protobuf::Node) -> Option<(String, String)> {
    let Some(NodeEnum::List(list)) = object.node.as_ref() else { return None };
    let parts: Vec<String> = (list.items.iter())
        .filter_map(|i| match i.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [table] => Some(("public".into(), table.clone())),
        [schema, table] => Some((schema.clone(), table.clone())),
        _ => None,
    }
}

/// The column's default when its values may be data: Some(None) for a column without one,
/// Some(Some(expression)) for a default; None when every value was made for it (identity,
/// generated, a sequence) and dropping it loses nothing.
async fn made_by_default(
    client: &Client,
    schema: &str,
    table: &str,
    column: &str,
) -> Result<Option<Option<String>>> {
    let row = client
        .query_opt(include_str!("column_default.sql"), &[&schema, &table, &column])
        .await
        .map_err(Error::db(format!("reading the default of {schema}.{table}.{column}")))?;
    Ok(match row {
        None => None,
        Some(row) if row.get::<_, bool>(0) => None,
        Some(row) => Some(row.get(1)),
    })
}

async fn count(client: &Client, query: &str) -> Result<i64> {
    let row = client
        .query_one(query, &[])
        .await
        .map_err(Error::db("checking for data down would delete"))?;
    Ok(row.get(0))
}

fn amount(n: i64, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n if n > LIMIT => format!("more than {LIMIT} {what}s"),
        n => format!("{n} {what}s"),
    }
}
