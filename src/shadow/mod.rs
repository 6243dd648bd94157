//! Scratch databases to load schemas into: on a `--dev-url` server, or in an ephemeral local
//! cluster that schemadiff starts and removes itself.

mod cluster;
mod initdb_cache;
mod leftovers;
mod place;
mod side_by_side;

pub use cluster::{
    EphemeralCluster, bindir_for_major, bindir_major, find_bindir, installed_servers,
};
pub use place::clusters_dir;
pub use side_by_side::{Side, SideBySide, State};

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
static DEV_SERVER_SWEPT: AtomicBool = AtomicBool::new(false);

/// A database created for one purpose and dropped by `Shadow::drop_database`.
pub struct ScratchDatabase {
    pub name: String,
    pub client: Client,
    /// Where another session to it connects.
    server: Server,
}

/// A shadow's server, to connect more sessions to one of its databases.
#[derive(Clone)]
enum Server {
    Dev(ConnInfo),
    Ephemeral(Box<tokio_postgres::Config>, String),
}

impl ScratchDatabase {
    /// Another session to this database.
    pub async fn session(&self) -> Result<Client> {
        self.server.connect(&self.name).await
    }

    /// The database's catalog; a large one is read on several sessions at once. The catalogs'
    /// row counts are refreshed first: every read of a scratch database follows changes to it.
    pub async fn catalog(&self) -> Result<crate::catalog::Catalog> {
        self.catalog_for(crate::introspect::Purpose::Plan, None).await
    }

    /// `catalog`, read for `purpose`, sharing what it can with `like` (a catalog this one is
    /// likely to equal mostly: the live one, or what a read-back is compared with).
    #[tracing::instrument(skip_all, fields(db = %self.name, ?purpose))]
    pub async fn catalog_for(
        &self,
        purpose: crate::introspect::Purpose,
        like: Option<&crate::catalog::Catalog>,
    ) -> Result<crate::catalog::Catalog> {
        refresh_statistics(&self.client).await?;
        let open = || self.session();
        crate::introspect::introspect_parallel_for(&self.client, open, purpose, like).await
    }
}

impl Server {
    async fn connect(&self, database: &str) -> Result<Client> {
        match self {
            Server::Dev(info) => connect_info(&info.with_database(database)).await,
            Server::Ephemeral(config, shown_as) => {
                let mut config = config.clone();
                config.dbname(database);
                connect(&config, shown_as).await
            }
        }
    }
}

impl Shadow {
    /// The dev server when given, else a new ephemeral cluster.
    pub fn start(dev_url: Option<&ConnInfo>) -> Result<Shadow> {
        match dev_url {
            Some(server) => Ok(Shadow::Dev { server: server.clone() }),
            None => Ok(Shadow::Ephemeral(EphemeralCluster::start()?)),
        }
    }

    /// A shadow for `target`'s major version: the dev server when given, else an ephemeral
    /// cluster from binaries of the target's major version when this machine has them. Catalog
    /// text (view definitions, defaults) is the shadow server's own, so a shadow of another
    /// version checks the plan less exactly: the note says so, and why.
    pub async fn start_for(
        dev_url: Option<&ConnInfo>,
        target: &Client,
    ) -> Result<(Shadow, Option<String>)> {
        let wanted = server_major_version(target).await?;
        let (shadow, missing) = match dev_url {
            Some(server) => (Shadow::Dev { server: server.clone() }, None),
            None => match bindir_for_major(wanted) {
                Ok(bindir) => (Shadow::Ephemeral(EphemeralCluster::start_from(bindir)?), None),
                Err(why) => (Shadow::Ephemeral(EphemeralCluster::start()?), Some(why)),
            },
        };
        let got = shadow.server_major_version().await?;
        let note = (got != wanted).then(|| match missing {
            Some(why) => format!(
                "the database is PostgreSQL {wanted} but the shadow is {got}: {why}; install \
                 them (e.g. `scripts/install-postgres {wanted}`) or pass --dev-url to a \
                 {wanted} server for an exact check"
            ),
            None => format!(
                "the shadow server is PostgreSQL {got} but the database is {wanted}; pass \
                 --dev-url to a {wanted} server for an exact check"
            ),
        });
        Ok((shadow, note))
    }

    async fn connect_to(&self, database: &str) -> Result<Client> {
        self.server().connect(database).await
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
        self.create_database_from(purpose, "template0").await
    }

    /// Creates a database named after `purpose` as a copy of `template`, and connects to it.
    #[tracing::instrument(skip(self))]
    async fn create_database_from(&self, purpose: &str, template: &str) -> Result<ScratchDatabase> {
        let n = SCRATCH_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("schemadiff_{purpose}_{}_{n}", std::process::id());
        let admin = self.admin_client().await?;
        if matches!(self, Shadow::Dev { .. }) && !DEV_SERVER_SWEPT.swap(true, Ordering::Relaxed) {
            leftovers::drop_dead_scratch(&admin).await;
        }
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
            .await
            .map_err(|e| {
            Error::Shadow(format!(
                "cannot create a scratch database on {}: {}",
                self.shown_as(),
                describe_db_error(&e)
            ))
        })?;
        self.open(name).await
    }

    /// A session on the scratch database `name`.
    async fn open(&self, name: String) -> Result<ScratchDatabase> {
        let client = self.connect_to(&name).await?;
        Ok(ScratchDatabase { name, client, server: self.server() })
    }

    /// How more sessions reach this shadow's databases.
    fn server(&self) -> Server {
        match self {
            Shadow::Dev { server } => Server::Dev(server.clone()),
            Shadow::Ephemeral(cluster) => {
                Server::Ephemeral(Box::new(cluster.config("postgres")), cluster.describe())
            }
        }
    }

    /// Runs `work` in a new scratch database and keeps the database, with no session left
    /// on it, to be cloned: a state is built once and each use gets its own copy.
    pub async fn prepare<T, F, Fut>(&self, purpose: &str, work: F) -> Result<(T, Prepared)>
    where
        F: FnOnce(std::sync::Arc<ScratchDatabase>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let db = std::sync::Arc::new(self.create_database(purpose).await?);
        let name = db.name.clone();
        let result = work(db.clone()).await;
        drop(db);
        match result {
            Ok(value) => Ok((value, Prepared { name, spent: AtomicBool::new(false) })),
            Err(e) => {
                let _ = self.drop_named(&name).await;
                Err(e)
            }
        }
    }

    /// Runs `work` in a copy of `state` (CREATE DATABASE ... TEMPLATE, a copy of its files:
    /// far cheaper than building the state again) and drops the copy afterwards.
    pub async fn in_copy<T, F, Fut>(&self, state: &Prepared, purpose: &str, work: F) -> Result<T>
    where
        F: FnOnce(std::sync::Arc<ScratchDatabase>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        assert!(
            !state.spent.load(Ordering::Relaxed),
            "a copy of {} after it was changed",
            state.name
        );
        let db = std::sync::Arc::new(self.create_database_from(purpose, &state.name).await?);
        let result = work(db.clone()).await;
        if let Ok(db) = std::sync::Arc::try_unwrap(db) {
            self.drop_database(db).await?;
        }
        result
    }

    /// Runs `work` in `state` itself, for its last use: a copy of a 10,000-table database
    /// takes seconds. The state is changed; `discard` drops it as before.
    pub async fn in_place<T, F, Fut>(&self, state: &Prepared, work: F) -> Result<T>
    where
        F: FnOnce(std::sync::Arc<ScratchDatabase>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        state.spent.store(true, Ordering::Relaxed);
        let db = self.open(state.name.clone()).await?;
        work(std::sync::Arc::new(db)).await
    }

    /// Drops a prepared state.
    pub async fn discard(&self, state: Prepared) -> Result<()> {
        self.drop_named(&state.name).await
    }

    #[tracing::instrument(skip(self))]
    async fn drop_named(&self, name: &str) -> Result<()> {
        // An ephemeral cluster's databases go with it when the command ends. Dropping a
        // 10,000-table database takes 5 to 8 seconds, which a plan would wait for twice.
        if let Shadow::Ephemeral(_) = self {
            return Ok(());
        }
        let admin = self.admin_client().await?;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .map_err(|e| Error::Shadow(format!("cannot drop {name}: {}", describe_db_error(&e))))
    }

    /// Drops a scratch database, closing its connection first.
    pub async fn drop_database(&self, db: ScratchDatabase) -> Result<()> {
        drop(db.client);
        self.drop_named(&db.name).await
    }
}

/// A scratch database that holds a state and that no session uses: a template for copies.
/// Dropped by `Shadow::discard` (or with the ephemeral cluster).
#[derive(Debug)]
pub struct Prepared {
    name: String,
    /// Changed by `in_place`: no copy may be made of it any more.
    spent: AtomicBool,
}

/// The major version of the connected server.
pub async fn server_major_version(client: &Client) -> Result<u32> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(Error::db("reading the server version"))?;
    Ok((row.get::<_, i32>(0) / 10000) as u32)
}

/// How many statements go to the server in one round trip when loading a schema.
pub(crate) const BATCH: usize = 256;

/// Runs schema statements, many to a round trip. The order of `schema/` need not be
/// PostgreSQL's: a statement that fails because something it names does not exist yet is
/// tried again once the others have run, until a round makes no progress; what still fails
/// is reported at its file:line:col.
///
/// A batch runs as one implicit transaction, so when one of its statements fails nothing of
/// it stays, and its statements run again one at a time: that finds the statement, defers
/// it or says where it failed, exactly as if nothing had been batched.
#[tracing::instrument(skip_all, fields(statements = statements.len()))]
pub async fn load_statements(
    client: &Client,
    statements: &[crate::source::Statement],
) -> Result<()> {
    let statements = as_the_server_reads_them(statements)?;
    let mut pending: Vec<&crate::source::Statement> = statements.iter().collect();
    loop {
        let mut deferred = Vec::new();
        let mut first_error = None;
        for batch in batches(&pending) {
            let texts = batch.iter().map(|s| s.sql.as_str());
            if batch.len() > 1 && client.batch_execute(&joined(texts)).await.is_ok() {
                continue;
            }
            for stmt in batch {
                let Err(e) = client.batch_execute(&stmt.sql).await else { continue };
                if names_missing_object(&e) {
                    deferred.push(*stmt);
                    first_error.get_or_insert((*stmt, e));
                } else {
                    return Err(statement_error(stmt, &e));
                }
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

/// `statements` in runs of at most `BATCH`; a statement that controls transactions runs
/// alone, since inside a batch it would change what the batch commits.
fn batches<'s, 'a>(
    statements: &'s [&'a crate::source::Statement],
) -> Vec<&'s [&'a crate::source::Statement]> {
    let alone = |s: &crate::source::Statement| {
        let word = s.sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next();
        let word = word.unwrap_or("").to_ascii_uppercase();
        ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"]
            .contains(&word.as_str())
    };
    let mut out = Vec::new();
    let mut start = 0;
    for (i, stmt) in statements.iter().enumerate() {
        if alone(stmt) {
            out.extend((start < i).then(|| &statements[start..i]));
            out.push(&statements[i..=i]);
            start = i + 1;
        } else if i + 1 - start == BATCH {
            out.push(&statements[start..=i]);
            start = i + 1;
        }
    }
    out.extend((start < statements.len()).then(|| &statements[start..]));
    out
}

/// Statements as one query text. Each ends on a line of its own: a statement may end in a
/// `--` comment, which would swallow a semicolon on its line.
pub(crate) fn joined<'a>(statements: impl IntoIterator<Item = &'a str>) -> String {
    let mut sql = String::new();
    for stmt in statements {
        sql.push_str(stmt);
        sql.push_str("\n;\n");
    }
    sql
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
    // Its first line of SQL, past any comment above it.
    let first_line = (stmt.sql.lines())
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        .unwrap_or("")
        .to_string();
    let mut message = describe_db_error(e);
    let full = e.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL);
    if let Some(hint) = place::full_hint(&clusters_dir()).filter(|_| full) {
        message.push_str(&format!("\n  hint: {hint}"));
    }
    Error::Statement { location, message, statement: first_line }
}

/// Replays migrations' up files in order, as `apply` would, without a history table (and
/// committing as it goes: see `replay_sql_file`).
#[tracing::instrument(skip_all, fields(migrations = migrations.len()))]
pub async fn replay(client: &Client, migrations: &[crate::migrations::Migration]) -> Result<()> {
    for m in migrations {
        crate::apply::replay_sql_file(client, &m.up_sql, &m.up_path).await?;
    }
    Ok(())
}

/// Counts the catalogs' rows for the planner, after a schema was built in a scratch database:
/// one made moments ago has the statistics of an empty one (or of the state it was copied
/// from), and the catalog queries, planned for a few rows where there are 100,000, would join
/// them quadratically. Row counts are all they need, so a sample of a few hundred rows does
/// (30 ms at 10,000 tables). A server where the shadow's role may not analyze the catalogs
/// skips them with a warning.
#[tracing::instrument(skip_all)]
async fn refresh_statistics(client: &Client) -> Result<()> {
    client
        .batch_execute(
            "SET default_statistics_target = 1; SET client_min_messages = error; \
             ANALYZE pg_catalog.pg_class, pg_catalog.pg_attribute, pg_catalog.pg_constraint, \
             pg_catalog.pg_depend, pg_catalog.pg_index, pg_catalog.pg_type, pg_catalog.pg_attrdef, \
             pg_catalog.pg_description, pg_catalog.pg_inherits, pg_catalog.pg_proc, \
             pg_catalog.pg_trigger, pg_catalog.pg_rewrite, pg_catalog.pg_namespace; \
             RESET default_statistics_target; RESET client_min_messages",
        )
        .await
        .map_err(Error::db("counting the shadow's catalog rows"))
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
