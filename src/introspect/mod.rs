//! Reads a live or shadow database into a `Catalog`: one bulk query per object kind, and one
//! for the dependency edges between them.

mod access;
mod bodies;
mod dependencies;
mod objects;
mod rows;

use std::collections::{BTreeMap, HashMap};

use dependencies::{
    Address, Oids, PG_ATTRDEF, PG_CLASS, PG_CONSTRAINT, PG_EXTENSION, PG_NAMESPACE, PG_TYPE,
};

use futures_util::StreamExt;
use rows::CatalogRow;
use tokio_postgres::Client;

use crate::catalog::{
    Alike, Catalog, Column, Constraint, ConstraintKind, EnumType, Extension, Identity, Index, Name,
    ObjectId, PartitionOf, QualifiedName, ReplicaIdentity, Schema, Sequence, SequenceOptions,
    Table,
};
use crate::error::{Error, Result};

/// The history table is the tool's own, never part of a schema.
pub const HISTORY_TABLE: &str = "public.schemadiff_migrations";

/// Counts the catalog queries one introspection sends, so tests can hold it to one per kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub queries: usize,
    /// Of those, the ones other sessions ran.
    pub on_helpers: usize,
}

type Param<'p> = &'p (dyn tokio_postgres::types::ToSql + Sync);

struct Session<'a> {
    client: &'a Client,
    /// Other sessions in the same snapshot, which run the heaviest queries meanwhile.
    helpers: &'a [Client],
    stats: Stats,
    /// The server's major version, which decides the lines of a query written for a newer one.
    major: u32,
}

impl<'a> Session<'a> {
    async fn query(
        &mut self,
        what: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<CatalogRow>> {
        self.stats.queries += 1;
        rows::query(self.client, for_server(sql, self.major).as_ref(), params)
            .await
            .map_err(Error::db(format!("reading {what} from the catalog")))
    }

    /// Sends every query at once and hands their rows back in order: the server runs each
    /// query while the rows of the ones before it are read into the catalog.
    fn pipeline<'p>(
        &mut self,
        queries: Vec<(&'static str, &'static str, &'p [Param<'p>])>,
    ) -> Pipeline<'p>
    where
        'a: 'p,
    {
        self.stats.queries += queries.len();
        let (main, helpers, major) = (self.client, self.helpers, self.major);
        let count = queries.len();
        let mut heavy = 0;
        let queries: Vec<_> = (queries.into_iter())
            .map(|(what, sql, params)| {
                let group = HEAVY.iter().position(|group| group.contains(&what));
                let client = match group {
                    Some(group) if !helpers.is_empty() => {
                        heavy += 1;
                        &helpers[group % helpers.len()]
                    }
                    _ => main,
                };
                (what, sql, params, client)
            })
            .collect();
        self.stats.on_helpers += heavy;
        let results = futures_util::stream::iter(queries)
            .map(move |(what, sql, params, client)| async move {
                let started = std::time::Instant::now();
                let sql = for_server(sql, major);
                let fetched = match what {
                    EDGES => rows::query_as(client, &sql, params, dependencies::edge)
                        .await
                        .map(Fetched::Edges),
                    _ => rows::query(client, &sql, params).await.map(Fetched::Rows),
                };
                let fetched =
                    fetched.map_err(Error::db(format!("reading {what} from the catalog")));
                let count = fetched.as_ref().map_or(0, Fetched::len);
                tracing::debug!(query = what, rows = count, elapsed = ?started.elapsed(), "catalog query");
                (what, fetched)
            })
            .buffered(count.max(1));
        Pipeline { results: Box::pin(results) }
    }
}

/// The query whose rows are read as dependency edges, not copied.
const EDGES: &str = "dependencies";

/// A query's rows as kept until they are read into the catalog.
enum Fetched {
    Rows(Vec<CatalogRow>),
    Edges(Vec<dependencies::Edge>),
}

impl Fetched {
    fn len(&self) -> usize {
        match self {
            Fetched::Rows(rows) => rows.len(),
            Fetched::Edges(edges) => edges.len(),
        }
    }
}

/// The rows of pipelined queries, taken in the order they were sent.
struct Pipeline<'p> {
    results: std::pin::Pin<Box<dyn futures_util::Stream<Item = Named<Fetched>> + Send + 'p>>,
}

/// A query's result, with the name it was sent under.
type Named<T> = (&'static str, Result<T>);

impl Pipeline<'_> {
    async fn fetched(&mut self, what: &str) -> Result<Fetched> {
        let (sent, rows) = self.results.next().await.expect("a row set for every query sent");
        debug_assert_eq!(sent, what, "catalog queries are taken in the order they were sent");
        rows
    }

    async fn next(&mut self, what: &str) -> Result<Vec<CatalogRow>> {
        match self.fetched(what).await? {
            Fetched::Rows(rows) => Ok(rows),
            Fetched::Edges(_) => unreachable!("{what} is read as rows"),
        }
    }

    async fn edges(&mut self) -> Result<Vec<dependencies::Edge>> {
        match self.fetched(EDGES).await? {
            Fetched::Edges(edges) => Ok(edges),
            Fetched::Rows(_) => unreachable!("{EDGES} is read as edges"),
        }
    }
}

/// A catalog query as a server of major version `major` takes it. Queries are written for the
/// newest server; a line that reads what an older one lacks ends in `-- before NN: LINE`, and
/// servers before NN read LINE in its place. Reading such a column through `to_jsonb(row)`
/// instead would work everywhere, at twice the cost of the whole columns query.
fn for_server(sql: &str, major: u32) -> std::borrow::Cow<'_, str> {
    const MARK: &str = " -- before ";
    if !sql.contains(MARK) {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len());
    for line in sql.lines() {
        let older = line.split_once(MARK).and_then(|(_, rest)| {
            let (version, older) = rest.split_once(": ")?;
            (major < version.trim().parse::<u32>().ok()?).then_some(older)
        });
        match older {
            Some(older) => {
                out.push_str(&line[..line.len() - line.trim_start().len()]);
                out.push_str(older);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.into()
}

/// Reads every user object of the connected database.
pub async fn introspect(client: &Client) -> Result<Catalog> {
    Ok(introspect_with_stats(client, &[], Purpose::Plan, None).await?.0)
}

/// What a catalog is read for. One that is only compared with another (verification's
/// read-backs) leaves out what comparison ignores: the dependency graph, all but the edges
/// that say a view reads itself. At 10,000 tables that is 400,000 `pg_depend` rows not read
/// and a graph not built, while two other catalogs are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Plan,
    Compare,
}

/// The catalog queries that deparse a row per column, constraint or index: at 10,000 tables
/// each takes a second or more of the server's time, which other sessions can share, a
/// session per group. Deparsing a check constraint or an index opens its table, building
/// the table's relcache entry in that session, so those two share one: a second session
/// would build all 10,000 again (a third of a query's time).
const HEAVY: [&[&str]; 2] = [&["columns"], &["constraints", "indexes"]];

/// Catalogs with more relations than this are read on several sessions at once.
const MANY_RELATIONS: i64 = 5_000;

/// `introspect` of a large catalog on several sessions of one snapshot: `open` connects
/// another session to the same database, and the heaviest queries run on those while the
/// rest run on `client`, as `pg_dump --jobs` shares its work. A small catalog, or a server
/// that cannot share its snapshot, is read on `client` alone.
pub async fn introspect_parallel<F, Fut>(client: &Client, open: F) -> Result<Catalog>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Client>>,
{
    introspect_parallel_for(client, open, Purpose::Plan, None).await
}

/// `introspect_parallel`, for `purpose`, sharing what it can with `like` (see
/// `introspect_with_stats`).
pub async fn introspect_parallel_for<F, Fut>(
    client: &Client,
    open: F,
    purpose: Purpose,
    like: Option<&Catalog>,
) -> Result<Catalog>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Client>>,
{
    let relations: i64 = client
        .query_one("SELECT count(*) FROM pg_catalog.pg_class", &[])
        .await
        .map_err(Error::db("counting the catalog's relations"))?
        .get(0);
    let mut helpers = Vec::new();
    if relations > MANY_RELATIONS {
        // Opened at once; one that cannot be opened leaves its queries to the others.
        let opened = futures_util::future::join_all((0..HEAVY.len()).map(|_| open())).await;
        helpers.extend(opened.into_iter().filter_map(Result::ok));
    }
    Ok(introspect_with_stats(client, &helpers, purpose, like).await?.0)
}

/// One snapshot for every query, and everything outside pg_catalog schema-qualified,
/// whatever the caller's search_path; all end with the transaction. JIT compiling the bulk
/// queries costs more than running them (over a second at 10,000 tables). The read runs on
/// several sessions already, so parallel workers only add their start-up to each query; and
/// the widest sort (constraints with their definitions, 13 MB at 10,000 tables) spilled to
/// disk at the default `work_mem`. Together about 7% of a read at 10,000 tables.
const BEGIN_CATALOG_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
     SET LOCAL search_path = pg_catalog; SET LOCAL jit = off; \
     SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL work_mem = '64MB'";

/// `introspect`, with `helpers` (sessions to the same database) running the heaviest
/// queries, also returning how many queries it took. With `like` (a catalog already read,
/// most of which this one is likely to equal) the identities both name are `like`'s, not
/// copies: what the catalog holds is the same either way.
#[tracing::instrument(skip_all)]
pub async fn introspect_with_stats(
    client: &Client,
    helpers: &[Client],
    purpose: Purpose,
    like: Option<&Catalog>,
) -> Result<(Catalog, Stats)> {
    let begin = client
        .simple_query(&format!("{BEGIN_CATALOG_READ}; SHOW server_version_num"))
        .await
        .map_err(Error::db("starting the introspection transaction"))?;
    let major = begin
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0)?.parse::<u32>().ok(),
            _ => None,
        })
        .map_or(u32::MAX, |version| version / 10000);
    let helpers = join_snapshot(client, helpers).await;
    let result = read_catalog(client, helpers, major, purpose, like).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    for helper in helpers {
        let _ = helper.batch_execute("ROLLBACK").await;
    }
    client.batch_execute(end).await.map_err(Error::db("ending the introspection transaction"))?;
    result
}

/// `helpers` in the snapshot of `client`'s open transaction, or none when the server cannot
/// share it (a standby before PostgreSQL 10, a pooler in transaction mode).
async fn join_snapshot<'h>(client: &Client, helpers: &'h [Client]) -> &'h [Client] {
    if helpers.is_empty() {
        return helpers;
    }
    // Not in a savepoint, which cannot export its snapshot: a server that refuses aborts the
    // transaction, so it is begun again, and read on one session.
    let Ok(row) = client.query_one("SELECT pg_catalog.pg_export_snapshot()", &[]).await else {
        let again = format!("ROLLBACK; {BEGIN_CATALOG_READ}");
        let _ = client.batch_execute(&again).await;
        return &[];
    };
    let snapshot: String = row.get(0);
    for helper in helpers {
        let joined = helper
            .batch_execute(&format!(
                "{BEGIN_CATALOG_READ}; SET TRANSACTION SNAPSHOT {}",
                crate::render::literal(&snapshot)
            ))
            .await;
        if joined.is_err() {
            for h in helpers {
                let _ = h.batch_execute("ROLLBACK").await;
            }
            return &[];
        }
    }
    helpers
}

/// Objects schemadiff does not manage yet (views, functions, triggers, policies, domains,
/// partitions, ...), one line each, so a plan can warn when they differ.
pub async fn unmanaged(client: &Client) -> Result<std::collections::BTreeSet<String>> {
    // Names come out qualified, as in `introspect`.
    client
        .batch_execute("BEGIN READ ONLY; SET LOCAL search_path = pg_catalog")
        .await
        .map_err(Error::db("starting the introspection transaction"))?;
    let result = async {
        let schemas = client
            .query(include_str!("queries/schemas.sql"), &[])
            .await
            .map_err(Error::db("reading schemas from the catalog"))?;
        let oids: Vec<u32> = schemas.iter().map(|r| r.get(0)).collect();
        let rows = client
            .query(include_str!("queries/unmanaged.sql"), &[&oids])
            .await
            .map_err(Error::db("reading unmanaged objects from the catalog"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await.map_err(Error::db("ending the introspection transaction"))?;
    result
}

/// The shared lock table of the server the client is connected to.
pub async fn lock_table(client: &Client) -> Result<crate::plan::LockTable> {
    let row = (client.query_one(include_str!("queries/lock_table.sql"), &[]).await)
        .map_err(Error::db("reading the size of the lock table"))?;
    Ok(crate::plan::LockTable {
        per_process: row.get::<_, i64>(0).max(0) as u64,
        processes: row.get::<_, i64>(1).max(0) as u64,
    })
}

/// The roles of the server the client is connected to, but the predefined `pg_*` ones.
pub async fn roles(client: &Client) -> Result<Vec<String>> {
    let rows = client
        .query("SELECT rolname::text FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1", &[])
        .await
        .map_err(Error::db("reading the roles"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The names of a table's columns by number, from the columns registered (a constraint's
/// columns are its table's, all read before it). Number 0 stands for an expression (an
/// exclusion constraint's), which names no column; a negative one is a system column (a
/// check may read `tableoid`), numbered alike on every server since PostgreSQL 12.
fn column_names(oids: &Oids, table: u32, numbers: Option<Vec<i32>>) -> Vec<Name> {
    const SYSTEM: [&str; 6] = ["ctid", "xmin", "cmin", "xmax", "cmax", "tableoid"];
    let numbers = numbers.unwrap_or_default();
    // Sized to fit: 30,000 constraints at 10,000 tables.
    let mut names = Vec::with_capacity(numbers.len());
    for number in numbers.into_iter().filter(|&n| n != 0) {
        let system = usize::try_from(-i64::from(number) - 1).ok().and_then(|i| SYSTEM.get(i));
        match (system, oids.exact(Address::new(PG_CLASS, table, number))) {
            (Some(name), _) => names.push(Name::from(*name)),
            (None, Some(ObjectId::Column(_, name))) => names.push(name.clone()),
            (None, other) => {
                debug_assert!(false, "column {number} of table {table} read as {other:?}")
            }
        }
    }
    names
}

/// The letter of one of PostgreSQL's one-letter codes (a `"char"` read as text).
fn letter(code: Option<&str>) -> Option<char> {
    code.and_then(|c| c.chars().next())
}

async fn read_catalog(
    client: &Client,
    helpers: &[Client],
    major: u32,
    purpose: Purpose,
    like: Option<&Catalog>,
) -> Result<(Catalog, Stats)> {
    let mut s = Session { client, helpers, stats: Stats::default(), major };
    let mut catalog = Catalog::default();
    let mut oids = Oids::for_purpose(purpose, like.map(|c| &c.depends));
    let mut extension_oids = HashMap::new();

    let rows = s.query("schemas", include_str!("queries/schemas.sql"), &[]).await?;
    let schema_oids: Vec<u32> = rows.iter().map(|r| r.get(0)).collect();
    for r in &rows {
        let name: String = r.get(1);
        oids.register(PG_NAMESPACE, r.get(0), 0, ObjectId::Schema(r.name(1)));
        catalog.schemas.insert(name.clone(), Schema { name, comment: r.get(2) });
    }

    let history = HISTORY_TABLE;
    let by_schema: [Param; 1] = [&schema_oids];
    let with_history: [Param; 2] = [&schema_oids, &history];
    let for_plan = purpose == Purpose::Plan;
    let constraints: [Param; 3] = [&schema_oids, &history, &for_plan];
    type Reader = fn(&CatalogRow, &mut Oids) -> crate::catalog::Object;
    let kinds: [(&'static str, &'static str, Reader); 14] = [
        ("collations", include_str!("queries/collations.sql"), objects::collation),
        ("range types", include_str!("queries/ranges.sql"), objects::range),
        ("foreign servers", include_str!("queries/servers.sql"), objects::server),
        ("foreign tables", include_str!("queries/foreign_tables.sql"), objects::foreign_table),
        ("event triggers", include_str!("queries/event_triggers.sql"), objects::event_trigger),
        ("views", include_str!("queries/views.sql"), objects::view),
        ("routines", include_str!("queries/functions.sql"), objects::function),
        ("triggers", include_str!("queries/triggers.sql"), objects::trigger),
        ("policies", include_str!("queries/policies.sql"), objects::policy),
        ("domains", include_str!("queries/domains.sql"), objects::domain),
        ("composite types", include_str!("queries/composites.sql"), objects::composite),
        ("rules", include_str!("queries/rules.sql"), objects::rule),
        ("operators", include_str!("queries/operators.sql"), objects::operator),
        ("casts", include_str!("queries/casts.sql"), objects::cast),
    ];
    let mut queries: Vec<(&'static str, &'static str, &[Param])> = vec![
        ("extensions", include_str!("queries/extensions.sql"), &[]),
        ("enum types", include_str!("queries/enums.sql"), &by_schema),
        ("sequences", include_str!("queries/sequences.sql"), &with_history),
        ("tables", include_str!("queries/tables.sql"), &with_history),
        ("columns", include_str!("queries/columns.sql"), &with_history),
        ("constraints", include_str!("queries/constraints.sql"), &constraints),
        ("indexes", include_str!("queries/indexes.sql"), &with_history),
    ];
    queries.extend(kinds.iter().map(|&(what, sql, _)| (what, sql, &by_schema[..])));
    queries.push(("privileges", include_str!("queries/privileges.sql"), &by_schema));
    queries.push((
        "default privileges",
        include_str!("queries/default_privileges.sql"),
        &by_schema,
    ));
    let dependencies = match purpose {
        Purpose::Plan => include_str!("queries/dependencies.sql"),
        Purpose::Compare => include_str!("queries/view_dependencies.sql"),
    };
    queries.push((EDGES, dependencies, &[]));
    let mut rows = s.pipeline(queries);

    for r in rows.next("extensions").await? {
        let name: String = r.get(0);
        oids.register(PG_EXTENSION, r.get(2), 0, ObjectId::Extension(r.name(0)));
        extension_oids.insert(r.get::<u32>(2), name.clone());
        catalog.extensions.insert(
            name.clone(),
            Extension { name, schema: r.get(1), version: r.get(3), pinned: false },
        );
    }

    for r in rows.next("enum types").await? {
        let name = QualifiedName::new(r.name(0), r.name(1));
        oids.register(PG_TYPE, r.get(4), 0, ObjectId::Type(name.clone()));
        oids.register(PG_TYPE, r.get(5), 0, ObjectId::Type(name.clone()));
        catalog.enums.insert(name.clone(), EnumType { name, labels: r.get(2), comment: r.get(3) });
    }

    let mut identities: BTreeMap<(QualifiedName, Name), (QualifiedName, SequenceOptions)> =
        BTreeMap::new();
    for r in rows.next("sequences").await? {
        let name = QualifiedName::new(r.name(0), r.name(1));
        let options = SequenceOptions {
            data_type: r.get(2),
            start: r.get(3),
            increment: r.get(4),
            min: r.get(5),
            max: r.get(6),
            cache: r.get(7),
            cycle: r.get(8),
        };
        let owner_kind: Option<String> = r.get(9);
        let owner = match (r.optional_name(10), r.optional_name(11)) {
            (Some(schema), Some(table)) => Some((QualifiedName::new(schema, table), r.name(12))),
            _ => None,
        };
        let oid: u32 = r.get(13);
        match (owner_kind.as_deref(), owner) {
            (Some("i"), Some(column)) => {
                oids.register(
                    PG_CLASS,
                    oid,
                    0,
                    ObjectId::Column(column.0.clone(), column.1.clone()),
                );
                identities.insert(column, (name, options));
            }
            (_, owned_by) => {
                oids.register(PG_CLASS, oid, 0, ObjectId::Sequence(name.clone()));
                let comment = r.get(14);
                catalog
                    .sequences
                    .insert(name.clone(), Sequence { name, options, owned_by, comment });
            }
        }
    }

    for r in rows.next("tables").await? {
        let name = QualifiedName::new(r.name(0), r.name(1));
        oids.register(PG_CLASS, r.get(3), 0, ObjectId::Table(name.clone()));
        oids.register(PG_TYPE, r.get(4), 0, ObjectId::Table(name.clone()));
        catalog.tables.insert(
            name.clone(),
            std::sync::Arc::new(Table {
                name,
                columns: Default::default(),
                constraints: Default::default(),
                comment: r.get(2),
                row_security: r.get(5),
                force_row_security: r.get(6),
                unlogged: r.get(7),
                options: r.get(8),
                replica_identity: match (r.get::<String>(9).as_str(), r.get(10)) {
                    ("n", _) => ReplicaIdentity::Nothing,
                    ("f", _) => ReplicaIdentity::Full,
                    ("i", Some(index)) => ReplicaIdentity::Index(index),
                    _ => ReplicaIdentity::Default,
                },
                partition_by: r.get(11),
                partition_of: match (
                    r.get::<Option<String>>(12),
                    r.get::<Option<String>>(13),
                    r.get::<Option<String>>(14),
                ) {
                    (Some(schema), Some(parent), Some(bound)) => {
                        Some(PartitionOf { parent: QualifiedName::new(schema, parent), bound })
                    }
                    _ => None,
                },
                inherits: r
                    .get::<Vec<String>>(15)
                    .into_iter()
                    .zip(r.get::<Vec<String>>(16))
                    .map(|(schema, name)| QualifiedName::new(schema, name))
                    .collect(),
            }),
        );
    }

    let alike = match purpose {
        Purpose::Plan => Alike::InFull,
        Purpose::Compare => Alike::Compared,
    };
    // The rows come table by table: each table's columns are trimmed and shared as soon as
    // they are all read, so the read never holds a second copy of every table's.
    let finish_columns = |catalog: &mut Catalog, table: &QualifiedName| {
        if let Some(t) = catalog.tables.get_mut(table) {
            std::sync::Arc::make_mut(&mut std::sync::Arc::make_mut(t).columns).shrink_to_fit();
        }
        if let Some(like) = like {
            catalog.share_columns_of(table, like, alike);
        }
    };
    let mut last: Option<QualifiedName> = None;
    for r in rows.next("columns").await? {
        let table = QualifiedName::new(r.name(0), r.name(1));
        if last.as_ref().is_some_and(|last| *last != table) {
            finish_columns(&mut catalog, last.as_ref().expect("checked"));
        }
        last = Some(table.clone());
        let name = r.name(2);
        let identity_kind: String = r.get(7);
        let identity = match identity_kind.as_str() {
            "a" | "d" => {
                identities.remove(&(table.clone(), name.clone())).map(|(sequence_name, options)| {
                    Identity { always: identity_kind == "a", sequence_name, options }
                })
            }
            _ => None,
        };
        let mut depends_on = Vec::new();
        let type_schema: String = r.get(10);
        let type_name: String = r.get(11);
        let type_kind: String = r.get(12);
        if let Some(ext) = r.optional_name(13) {
            depends_on.push(ObjectId::Extension(ext));
        } else if type_schema != "pg_catalog" && type_kind == "e" {
            depends_on.push(ObjectId::Type(QualifiedName::new(type_schema, type_name)));
        }
        let seq_schemas: Vec<String> = r.get(14);
        let seq_names: Vec<String> = r.get(15);
        for (schema, seq) in seq_schemas.into_iter().zip(seq_names) {
            depends_on.push(ObjectId::Sequence(QualifiedName::new(schema, seq)));
        }
        for ext in r.get::<Vec<&str>>(16) {
            let id = ObjectId::Extension(ext.into());
            if !depends_on.contains(&id) {
                depends_on.push(id);
            }
        }
        oids.register(
            PG_CLASS,
            r.get(17),
            r.get(18),
            ObjectId::Column(table.clone(), name.clone()),
        );
        if let Some(default_oid) = r.get::<Option<u32>>(19) {
            oids.register(
                PG_ATTRDEF,
                default_oid,
                0,
                ObjectId::Default(table.clone(), name.clone()),
            );
        }
        let column = Column {
            name,
            type_sql: r.name(3),
            collation: r.get(4),
            not_null: r.get(5),
            default: r.get(6),
            identity: identity.map(Box::new),
            generated: r.get(8),
            comment: r.get(9),
            depends_on,
            storage: letter(r.get(20)),
            type_storage: letter(r.get(21)).unwrap_or('p'),
            compression: letter(r.get(22)),
            statistics: r.get(23),
            inherited: r.get(24),
            generated_virtual: r.get(25),
            not_null_name: r.get(26),
        };
        if let Some(t) = catalog.tables.get_mut(&table) {
            std::sync::Arc::make_mut(&mut std::sync::Arc::make_mut(t).columns).push(column);
        }
    }
    // A vector grown by doubling holds up to twice its columns: at 10,000 tables, megabytes
    // in each catalog a plan holds.
    if let Some(last) = last.take() {
        finish_columns(&mut catalog, &last);
    }

    // As the columns: most tables have one to three constraints, and a vector of them holds
    // room for four.
    let finish_constraints = |catalog: &mut Catalog, table: &QualifiedName| {
        if let Some(t) = catalog.tables.get_mut(table) {
            let constraints =
                std::sync::Arc::make_mut(&mut std::sync::Arc::make_mut(t).constraints);
            let mut pairs = std::mem::take(constraints).into_tuple_vec();
            pairs.shrink_to_fit();
            *constraints = litemap::LiteMap::from_sorted_store_unchecked(pairs);
        }
        if let Some(like) = like {
            catalog.share_constraints_of(table, like, alike);
        }
    };
    for r in rows.next("constraints").await? {
        let table = QualifiedName::new(r.name(0), r.name(1));
        if last.as_ref().is_some_and(|last| *last != table) {
            finish_constraints(&mut catalog, last.as_ref().expect("checked"));
        }
        last = Some(table.clone());
        let kind = match r.get::<String>(3).as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            "n" => ConstraintKind::NotNull,
            _ => ConstraintKind::Exclusion,
        };
        let mut depends_on = Vec::new();
        if let (Some(schema), Some(ref_table)) = (r.optional_name(6), r.optional_name(7)) {
            let ref_table = QualifiedName::new(schema, ref_table);
            match (r.optional_name(8), r.optional_name(9)) {
                (Some(key), _) => depends_on.push(ObjectId::Constraint(ref_table, key)),
                (None, Some(index)) => depends_on
                    .push(ObjectId::Index(QualifiedName::new(ref_table.schema.clone(), index))),
                (None, None) => depends_on.push(ObjectId::Table(ref_table)),
            }
        }
        let name = r.name(2);
        let constraint = Constraint {
            name: name.clone(),
            kind,
            definition: r.get(4),
            columns: column_names(&oids, r.get(14), r.get(5)),
            depends_on,
            comment: r.get(10),
            index_definition: r.get(13),
        };
        let id = ObjectId::Constraint(table.clone(), name.clone());
        oids.register(PG_CONSTRAINT, r.get(11), 0, id.clone());
        if matches!(
            kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
        ) {
            // The index behind a key is the key.
            oids.register(PG_CLASS, r.get(12), 0, id);
        }
        if let Some(t) = catalog.tables.get_mut(&table) {
            std::sync::Arc::make_mut(&mut std::sync::Arc::make_mut(t).constraints)
                .insert(name, constraint);
        }
    }
    if let Some(last) = last.take() {
        finish_constraints(&mut catalog, &last);
    }

    if let Some(like) = like {
        catalog.share_tables_with(like, alike);
    }

    for r in rows.next("indexes").await? {
        let schema = r.name(0);
        let name = QualifiedName::new(schema.clone(), r.name(1));
        let table = QualifiedName::new(schema, r.name(2));
        oids.register(PG_CLASS, r.get(6), 0, ObjectId::Index(name.clone()));
        let index = std::sync::Arc::new(Index {
            name: name.clone(),
            table,
            definition: r.get(3),
            columns: r.get::<Vec<&str>>(4).into_iter().map(Name::from).collect(),
            comment: r.get(5),
            valid: r.get(7),
        });
        // Shared as it is read, as the columns are.
        let theirs = like.and_then(|like| like.indexes.get(&name));
        catalog.indexes.insert(name, crate::catalog::or_theirs(index, theirs, alike));
    }

    for (what, _, read) in kinds {
        for r in rows.next(what).await? {
            let object = read(&r, &mut oids);
            catalog.objects.insert(object.id(), std::sync::Arc::new(object));
        }
    }

    for r in rows.next("privileges").await? {
        catalog.access.extend(access::object(&r, &oids));
    }
    for r in rows.next("default privileges").await? {
        catalog.access.extend(access::defaults(&r));
    }

    let edges = rows.edges().await?;
    catalog.depends = dependencies::resolve(oids, &extension_oids, edges);
    for (id, o) in catalog.objects.iter_mut() {
        if let crate::catalog::Object::View(v) = std::sync::Arc::make_mut(o) {
            v.refers_to_itself = catalog.depends.refers_to_itself(id);
        }
    }
    if purpose == Purpose::Plan {
        bodies::add_body_dependencies(&mut catalog);
    }
    // Once complete: a view learns above whether it reads itself.
    if let Some(like) = like {
        catalog.share_objects_with(like, alike);
    }

    Ok((catalog, s.stats))
}

#[cfg(test)]
mod tests {
    use super::for_server;

    #[test]
    fn older_servers_read_the_line_marked_for_them() {
        let sql = "SELECT a,\n       a.attcompression AS c, -- before 14: NULL AS c,\n       b\n";
        assert_eq!(for_server(sql, 17), sql);
        assert_eq!(for_server(sql, 14), sql);
        assert_eq!(for_server(sql, 13), "SELECT a,\n       NULL AS c,\n       b\n");
    }
}
