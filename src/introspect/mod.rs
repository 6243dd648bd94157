//! Reads a live or shadow database into a `Catalog`: one bulk query per object kind.

use std::collections::BTreeMap;

use tokio_postgres::{Client, Row};

use crate::catalog::{
    Catalog, Column, Constraint, ConstraintKind, EnumType, Extension, Identity, Index, ObjectId,
    QualifiedName, Schema, Sequence, SequenceOptions, Table,
};
use crate::error::{Error, Result};

/// The history table is the tool's own, never part of a schema.
pub const HISTORY_TABLE: &str = "public.schemadiff_migrations";

/// Counts the catalog queries one introspection sends, so tests can hold it to one per kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub queries: usize,
}

struct Session<'a> {
    client: &'a Client,
    stats: Stats,
}

impl Session<'_> {
    async fn query(
        &mut self,
        what: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        self.stats.queries += 1;
        self.client
            .query(sql, params)
            .await
            .map_err(Error::db(format!("reading {what} from the catalog")))
    }
}

/// Reads every user object of the connected database.
pub async fn introspect(client: &Client) -> Result<Catalog> {
    Ok(introspect_with_stats(client).await?.0)
}

/// `introspect`, also returning how many queries it took.
pub async fn introspect_with_stats(client: &Client) -> Result<(Catalog, Stats)> {
    // One snapshot for every query, and everything outside pg_catalog schema-qualified,
    // whatever the caller's search_path; both end with the transaction.
    client
        .batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path = pg_catalog",
        )
        .await
        .map_err(Error::db("starting the introspection transaction"))?;
    let result = read_catalog(client).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await.map_err(Error::db("ending the introspection transaction"))?;
    result
}

/// Objects schemadiff does not manage yet (views, functions, triggers, policies, domains,
/// partitions, ...), one line each, so a plan can warn when they differ.
pub async fn unmanaged(client: &Client) -> Result<std::collections::BTreeSet<String>> {
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

async fn read_catalog(client: &Client) -> Result<(Catalog, Stats)> {
    let mut s = Session { client, stats: Stats::default() };
    let mut catalog = Catalog::default();

    let rows = s.query("schemas", include_str!("queries/schemas.sql"), &[]).await?;
    let oids: Vec<u32> = rows.iter().map(|r| r.get(0)).collect();
    for r in &rows {
        let name: String = r.get(1);
        catalog.schemas.insert(name.clone(), Schema { name, comment: r.get(2) });
    }

    for r in s.query("extensions", include_str!("queries/extensions.sql"), &[]).await? {
        let name: String = r.get(0);
        catalog.extensions.insert(name.clone(), Extension { name, schema: r.get(1) });
    }

    for r in s.query("enum types", include_str!("queries/enums.sql"), &[&oids]).await? {
        let name = QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1));
        catalog.enums.insert(name.clone(), EnumType { name, labels: r.get(2), comment: r.get(3) });
    }

    let history = HISTORY_TABLE;
    let mut identities: BTreeMap<(QualifiedName, String), (QualifiedName, SequenceOptions)> =
        BTreeMap::new();
    for r in s.query("sequences", include_str!("queries/sequences.sql"), &[&oids, &history]).await?
    {
        let name = QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1));
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
        let owner = match (r.get::<_, Option<String>>(10), r.get::<_, Option<String>>(11)) {
            (Some(schema), Some(table)) => {
                Some((QualifiedName::new(schema, table), r.get::<_, String>(12)))
            }
            _ => None,
        };
        match (owner_kind.as_deref(), owner) {
            (Some("i"), Some(column)) => {
                identities.insert(column, (name, options));
            }
            (_, owned_by) => {
                catalog.sequences.insert(name.clone(), Sequence { name, options, owned_by });
            }
        }
    }

    for r in s.query("tables", include_str!("queries/tables.sql"), &[&oids, &history]).await? {
        let name = QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1));
        catalog.tables.insert(
            name.clone(),
            Table { name, columns: Vec::new(), constraints: BTreeMap::new(), comment: r.get(2) },
        );
    }

    for r in s.query("columns", include_str!("queries/columns.sql"), &[&oids, &history]).await? {
        let table = QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1));
        let name: String = r.get(2);
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
        if let Some(ext) = r.get::<_, Option<String>>(13) {
            depends_on.push(ObjectId::Extension(ext));
        } else if type_schema != "pg_catalog" && type_kind == "e" {
            depends_on.push(ObjectId::Type(QualifiedName::new(type_schema, type_name)));
        }
        let seq_schemas: Vec<String> = r.get(14);
        let seq_names: Vec<String> = r.get(15);
        for (schema, seq) in seq_schemas.into_iter().zip(seq_names) {
            depends_on.push(ObjectId::Sequence(QualifiedName::new(schema, seq)));
        }
        for ext in r.get::<_, Vec<String>>(16) {
            let id = ObjectId::Extension(ext);
            if !depends_on.contains(&id) {
                depends_on.push(id);
            }
        }
        let column = Column {
            name,
            type_sql: r.get(3),
            collation: r.get(4),
            not_null: r.get(5),
            default: r.get(6),
            identity,
            generated: r.get(8),
            comment: r.get(9),
            depends_on,
        };
        if let Some(t) = catalog.tables.get_mut(&table) {
            t.columns.push(column);
        }
    }

    for r in
        s.query("constraints", include_str!("queries/constraints.sql"), &[&oids, &history]).await?
    {
        let table = QualifiedName::new(r.get::<_, String>(0), r.get::<_, String>(1));
        let kind = match r.get::<_, String>(3).as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "f" => ConstraintKind::ForeignKey,
            _ => ConstraintKind::Exclusion,
        };
        let mut depends_on = Vec::new();
        if let (Some(schema), Some(ref_table)) =
            (r.get::<_, Option<String>>(6), r.get::<_, Option<String>>(7))
        {
            let ref_table = QualifiedName::new(schema, ref_table);
            match (r.get::<_, Option<String>>(8), r.get::<_, Option<String>>(9)) {
                (Some(key), _) => depends_on.push(ObjectId::Constraint(ref_table, key)),
                (None, Some(index)) => depends_on
                    .push(ObjectId::Index(QualifiedName::new(ref_table.schema.clone(), index))),
                (None, None) => depends_on.push(ObjectId::Table(ref_table)),
            }
        }
        let name: String = r.get(2);
        let constraint = Constraint {
            name: name.clone(),
            kind,
            definition: r.get(4),
            columns: r.get(5),
            depends_on,
            comment: r.get(10),
        };
        if let Some(t) = catalog.tables.get_mut(&table) {
            t.constraints.insert(name, constraint);
        }
    }

    for r in s.query("indexes", include_str!("queries/indexes.sql"), &[&oids, &history]).await? {
        let schema: String = r.get(0);
        let name = QualifiedName::new(schema.clone(), r.get::<_, String>(1));
        let table = QualifiedName::new(schema, r.get::<_, String>(2));
        catalog.indexes.insert(
            name.clone(),
            Index { name, table, definition: r.get(3), columns: r.get(4), comment: r.get(5) },
        );
    }

    Ok((catalog, s.stats))
}
