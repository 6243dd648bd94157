//! Bringing a database schemadiff has never migrated under it: the tracking tables other
//! tools left, and `baseline`, which records migrations as applied without running them.

use tokio_postgres::Client;

use super::{HistoryTable, Session, ensure_history, history, session};
use crate::error::{Error, Result};
use crate::migrations::Migration;

/// A migration table another tool keeps, and where it says the database stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingTable {
    pub table: crate::catalog::QualifiedName,
    /// The tool that keeps a table of this name and shape.
    pub tool: &'static str,
    /// Its rows that count as applied (not failed, dirty, inactive or rolled back).
    pub applied: usize,
    /// The highest version among them.
    pub latest: Option<String>,
}

/// Every tracking table of another tool in the database.
pub async fn tracking_tables(client: &Client) -> Result<Vec<TrackingTable>> {
    let rows = client
        .query(include_str!("tracking.sql"), &[])
        .await
        .map_err(Error::db("looking for other tools' migration tables"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let (schema, name): (String, String) = (r.get(0), r.get(1));
            let json: Option<String> = r.get(2);
            let rows: Vec<serde_json::Value> =
                json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
            summarise(&schema, &name, &rows)
        })
        .collect())
}

fn summarise(schema: &str, name: &str, rows: &[serde_json::Value]) -> TrackingTable {
    let has = |key: &str| rows.first().is_some_and(|r| r.get(key).is_some());
    let tool = match name {
        "flyway_schema_history" => "Flyway",
        "_sqlx_migrations" => "sqlx",
        "__diesel_schema_migrations" => "Diesel",
        "schema_migration" => "pop",
        "schema_migrations" if has("dirty") => "golang-migrate",
        "schema_migrations" => "Rails or dbmate",
        _ => "a hand-written runner",
    };
    let counts = |r: &&serde_json::Value| {
        let is = |key: &str, value: bool| r.get(key).and_then(|v| v.as_bool()) == Some(value);
        !is("success", false)
            && !is("dirty", true)
            && !is("is_active", false)
            && r.get("rolled_back_at").is_none_or(|v| v.is_null())
            && r.get("status")
                .and_then(|v| v.as_str())
                .is_none_or(|s| !matches!(s, "failed" | "rolled_back" | "reverted" | "pending"))
    };
    let version = |r: &serde_json::Value| -> Option<String> {
        ["version", "id", "name", "migration", "filename", "script"]
            .iter()
            .find_map(|key| r.get(*key).filter(|v| !v.is_null()))
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
    };
    let applied: Vec<&serde_json::Value> = rows.iter().filter(counts).collect();
    // Versions compare as numbers when they are ("10" after "9"), else as text.
    let latest = applied.iter().filter_map(|r| version(r)).max_by(|a, b| {
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => a.cmp(b),
        }
    });
    let table = crate::catalog::QualifiedName::new(schema.to_string(), name.to_string());
    TrackingTable { table, tool, applied: applied.len(), latest }
}

/// Records `migrations` as applied on a database schemadiff has not migrated, without
/// running them (the database already has what they make: the caller checked).
pub async fn baseline(session: &Session<'_>, migrations: &[Migration]) -> Result<()> {
    session::lock(session).await?;
    let result = record_baseline(session.client, &session.history, migrations).await;
    session::unlock(session).await;
    result
}

async fn record_baseline(
    client: &Client,
    table: &HistoryTable,
    migrations: &[Migration],
) -> Result<()> {
    let known = history(client, table).await?;
    if let Some(row) = known.values().next() {
        return Err(Error::Migrations(format!(
            "{table} already records migrations ({:03}_{} and on): baseline is for a database schemadiff has not migrated yet",
            row.version, row.name
        )));
    }
    ensure_history(client, table).await?;
    let insert = table.sql(
        "INSERT INTO {history} (version, name, checksum, status, applied_at, applied_by, execution_ms) \
         VALUES ($1, $2, $3, 'applied', now(), current_user, 0)",
    );
    client.batch_execute("BEGIN").await.map_err(Error::db("starting the baseline"))?;
    for m in migrations {
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&(m.version as i32), &m.name, &m.checksum()];
        if let Err(e) = client.execute(&insert, &params).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(Error::db(format!("recording {} as applied", m.id()))(e));
        }
    }
    client.batch_execute("COMMIT").await.map_err(Error::db("recording the baseline"))
}
