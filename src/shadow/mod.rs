//! Scratch databases to load schemas into: on a `--dev-url` server, or in an ephemeral local
//! cluster that schemadiff starts and removes itself.

mod cluster;
mod leftovers;

pub use cluster::{EphemeralCluster, find_bindir};

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::Client;

use crate::connect::{ConnInfo, connect, connect_info};
use crate::error::{Error, Result, describe_db_error};

/// Where scratch databases are made.
pub enum Shadow {
    /// A server where the tool may create and drop databases.
    Dev { server: ConnInfo },
    /// A private cluster owned by this process.
    Ephemeral(EphemeralCluster),
}

static SCRATCH_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Whether this process has removed what dead runs left on the dev server.
static DEV_SERVER_SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A database created for one purpose and dropped by `Shadow::drop_database`.
pub struct ScratchDatabase {
    pub name: String,
    pub client: Client,
}

impl Shadow {
    /// The dev server when given, else a new ephemeral cluster.
    pub fn start(dev_url: Option<&ConnInfo>) -> Result<Shadow> {
        match dev_url {
            Some(server) => Ok(Shadow::Dev { server: server.clone() }),
            None => Ok(Shadow::Ephemeral(EphemeralCluster::start()?)),
        }
    }

    async fn connect_to(&self, database: &str) -> Result<Client> {
        match self {
            Shadow::Dev { server } => connect_info(&server.with_database(database)).await,
            Shadow::Ephemeral(cluster) => {
                connect(&cluster.config(database), &cluster.describe()).await
            }
        }
    }

    fn shown_as(&self) -> String {
        match self {
            Shadow::Dev { server } => server.to_string(),
            Shadow::Ephemeral(cluster) => cluster.describe(),
        }
    }

    async fn admin_client(&self) -> Result<Client> {
        match self {
            Shadow::Dev { server } => connect_info(server).await,
            Shadow::Ephemeral(cluster) => {
                connect(&cluster.config("postgres"), &cluster.describe()).await
            }
        }
    }

    /// The server's major version, e.g. 15.
    pub async fn server_major_version(&self) -> Result<u32> {
        let client = self.admin_client().await?;
        server_major_version(&client).await
    }

    /// Creates the roles the ephemeral cluster lacks (roles are cluster objects that a
    /// schema's grants, policies and owners name). A dev server is left as it is.
    pub async fn ensure_roles(&self, roles: &[String]) -> Result<()> {
        let Shadow::Ephemeral(_) = self else { return Ok(()) };
        let admin = self.admin_client().await?;
        let have = crate::introspect::roles(&admin).await?;
        for role in roles.iter().filter(|r| !have.contains(r)) {
            let quoted = format!("\"{}\"", role.replace('"', "\"\""));
            admin.batch_execute(&format!("CREATE ROLE {quoted} NOLOGIN")).await.map_err(|e| {
                Error::Shadow(format!("cannot create role {role}: {}", describe_db_error(&e)))
            })?;
        }
        Ok(())
    }

    /// Creates an empty database named after `purpose` and connects to it.
    pub async fn create_database(&self, purpose: &str) -> Result<ScratchDatabase> {
        let n = SCRATCH_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("schemadiff_{purpose}_{}_{n}", std::process::id());
        let admin = self.admin_client().await?;
        if matches!(self, Shadow::Dev { .. }) && !DEV_SERVER_SWEPT.swap(true, Ordering::Relaxed) {
            leftovers::drop_dead_scratch(&admin).await;
        }
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .map_err(|e| {
                Error::Shadow(format!(
                    "cannot create a scratch database on {}: {}",
                    self.shown_as(),
                    describe_db_error(&e)
                ))
            })?;
        let client = self.connect_to(&name).await?;
        Ok(ScratchDatabase { name, client })
    }

    /// Drops a scratch database, closing its connection first.
    pub async fn drop_database(&self, db: ScratchDatabase) -> Result<()> {
        drop(db.client);
        let admin = self.admin_client().await?;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", db.name))
            .await
            .map_err(|e| {
                Error::Shadow(format!("cannot drop {}: {}", db.name, describe_db_error(&e)))
            })
    }
}

/// The major version of the connected server.
pub async fn server_major_version(client: &Client) -> Result<u32> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(Error::db("reading the server version"))?;
    Ok((row.get::<_, i32>(0) / 10000) as u32)
}

/// Runs schema statements one by one. The order of `schema/` need not be PostgreSQL's: a
/// statement that fails because something it names does not exist yet is tried again once
/// the others have run, until a round makes no progress; what still fails is reported at its
/// file:line:col.
pub async fn load_statements(
    client: &Client,
    statements: &[crate::source::Statement],
) -> Result<()> {
    let statements = as_the_server_reads_them(statements)?;
    let mut pending: Vec<&crate::source::Statement> = statements.iter().collect();
    loop {
        let mut deferred = Vec::new();
        let mut first_error = None;
        for stmt in &pending {
            let Err(e) = client.batch_execute(&stmt.sql).await else { continue };
            if names_missing_object(&e) {
                deferred.push(*stmt);
                first_error.get_or_insert((*stmt, e));
            } else {
                return Err(statement_error(stmt, &e));
            }
        }
        match first_error {
            None => return Ok(()),
            Some((stmt, e)) if deferred.len() == pending.len() => {
                return Err(statement_error(stmt, &e));
            }
            Some(_) => pending = deferred,
        }
    }
}

/// The statements as PostgreSQL would read them from psql: a `SET client_encoding` in
/// schema/ makes the server read the bytes that follow in that encoding. Our connection must
/// stay UTF-8, so the SET is not sent and the text after it is re-read as the server would.
fn as_the_server_reads_them(
    statements: &[crate::source::Statement],
) -> Result<Vec<crate::source::Statement>> {
    let set = regex::Regex::new(
        r"(?i)^SET\s+(?:SESSION\s+)?client_encoding\s*(?:=|TO)\s*'?([A-Za-z0-9_-]+)'?\s*;?$",
    )
    .expect("a valid pattern");
    let mut latin1 = false;
    let mut out = Vec::with_capacity(statements.len());
    for stmt in statements {
        if let Some(m) = set.captures(stmt.sql.trim()) {
            latin1 = match m[1].to_ascii_lowercase().replace(['_', '-'], "").as_str() {
                "latin1" | "iso88591" => true,
                "utf8" | "unicode" | "sqlascii" => false,
                other => {
                    return Err(Error::Statement {
                        location: stmt.location.clone(),
                        message: format!(
                            "schema files are read as UTF-8; client_encoding {other} is not supported (save the file as UTF-8 and remove the SET)"
                        ),
                        statement: stmt.sql.clone(),
                    });
                }
            };
            continue;
        }
        let mut stmt = stmt.clone();
        if latin1 {
            // Each byte is one LATIN1 character.
            stmt.sql = stmt.sql.bytes().map(char::from).collect();
        }
        out.push(stmt);
    }
    Ok(out)
}

/// Whether PostgreSQL refused a statement for naming an object that does not exist (yet).
fn names_missing_object(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        [
            SqlState::UNDEFINED_TABLE,
            SqlState::UNDEFINED_OBJECT,
            SqlState::UNDEFINED_FUNCTION,
            SqlState::UNDEFINED_COLUMN,
            SqlState::INVALID_SCHEMA_NAME,
        ]
        .contains(c)
    })
}

/// A failing schema statement, located at the error inside it when PostgreSQL says where.
fn statement_error(stmt: &crate::source::Statement, e: &tokio_postgres::Error) -> Error {
    let mut location = stmt.location.clone();
    if let Some(tokio_postgres::error::ErrorPosition::Original(p)) =
        e.as_db_error().and_then(|d| d.position())
    {
        let offset = crate::source::char_position_to_offset(&stmt.sql, *p as usize);
        // Where the error is inside the statement, moved to where the statement starts.
        let within = crate::source::locate(&location.file, &stmt.sql, offset);
        if within.line == 1 {
            location.column += within.column - 1;
        } else {
            location.line += within.line - 1;
            location.column = within.column;
        }
    }
    let first_line = stmt.sql.lines().next().unwrap_or("").to_string();
    Error::Statement { location, message: describe_db_error(e), statement: first_line }
}

/// Replays migrations' up files in order, as `apply` would, without a history table.
pub async fn replay(client: &Client, migrations: &[crate::migrations::Migration]) -> Result<()> {
    for m in migrations {
        crate::apply::run_sql_file(client, &m.up_sql, &m.up_path).await?;
    }
    Ok(())
}

/// Runs `work` in a new scratch database and drops the database afterwards.
pub async fn in_scratch<T, F, Fut>(shadow: &Shadow, purpose: &str, work: F) -> Result<T>
where
    F: FnOnce(std::sync::Arc<ScratchDatabase>) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let db = std::sync::Arc::new(shadow.create_database(purpose).await?);
    let result = work(db.clone()).await;
    if let Ok(db) = std::sync::Arc::try_unwrap(db) {
        shadow.drop_database(db).await?;
    }
    result
}
