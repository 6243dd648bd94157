//! Proof before writing: the current state, then up, then down, replayed in a scratch
//! database, each result compared with the catalog it must equal.

use std::path::Path;

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, Manage, QualifiedName};
use crate::error::{Error, Result};
use crate::introspect::Purpose;
use crate::shadow::{Prepared, ScratchDatabase, Shadow};
use crate::{apply, plan, render};

/// What running a migration's files in the shadow showed.
#[derive(Debug, Default)]
pub struct Measured {
    /// The tables PostgreSQL rewrote while up ran (their storage file changed): the measure
    /// `TABLE_REWRITE` is raised by.
    pub rewritten: BTreeSet<QualifiedName>,
    /// The most locks one transaction of up, and of down, held: a server's lock table must
    /// have room for them all at once.
    pub up_locks: u64,
    pub down_locks: u64,
}

/// One planned migration to prove: its files and the state its up must reach.
pub struct Planned<'a> {
    pub up_sql: &'a str,
    pub down_sql: &'a str,
    pub reaches: &'a Catalog,
    /// What the state `reaches` is called in messages (`schema/`, `the expand phase`).
    pub name: &'a str,
}

/// The shadow database a plan is verified in, and which state of the plan it holds.
pub enum Kept {
    /// The current state (rebuilt or replayed): each up runs first, then the downs in
    /// reverse.
    Current(Prepared),
    /// The state the last up reaches (`schema/` loaded): the downs in reverse run first,
    /// then each up. Going down first proves the same equalities without building the
    /// current state from nothing, which at 10,000 tables costs as much as loading `schema/`.
    Reached(Prepared),
}

impl Kept {
    pub fn into_prepared(self) -> Prepared {
        match self {
            Kept::Current(p) | Kept::Reached(p) => p,
        }
    }

    /// The current state rebuilt in the shadow (see `rebuilt`), kept in place of the state
    /// the plan reaches.
    pub async fn make_current(
        &mut self,
        shadow: &Shadow,
        current: &mut Catalog,
        manage: Manage,
    ) -> Result<()> {
        if let Kept::Reached(_) = self {
            let state = rebuilt(shadow, current, manage).await?;
            let reached = std::mem::replace(self, Kept::Current(state));
            shadow.discard(reached.into_prepared()).await?;
        }
        Ok(())
    }
}

impl From<Kept> for Prepared {
    fn from(kept: Kept) -> Prepared {
        kept.into_prepared()
    }
}

/// Runs each migration's up and the downs in reverse in the kept state, in the order its
/// state allows, checking each result: every up reaches its state, every down the one before. It
/// is the state's last use: it runs in the state itself, not in a copy.
/// Returns what the shadow measured of each migration.
#[tracing::instrument(skip_all)]
pub async fn verify(
    shadow: &Shadow,
    kept: &Kept,
    current: &Catalog,
    chain: &[Planned<'_>],
    manage: Manage,
) -> Result<Vec<Measured>> {
    let planned = Path::new("<planned>");
    let (state, down_first) = match kept {
        Kept::Current(state) => (state, false),
        Kept::Reached(state) => (state, true),
    };
    shadow
        .in_place(state, |db| async move {
            let client = &db.client;
            let several = chain.len() > 1;
            let file = |i: usize, kind: &str| match several {
                true => planned.join(format!("{}.{kind}.sql", i + 1)),
                false => planned.join(format!("{kind}.sql")),
            };
            let mut measured: Vec<Measured> = chain.iter().map(|_| Measured::default()).collect();
            let mut down_locks = vec![0; chain.len()];
            let mut downs = async || -> Result<()> {
                for (i, m) in chain.iter().enumerate().rev() {
                    down_locks[i] =
                        apply::run_sql_file_counting_locks(client, m.down_sql, &file(i, "down"))
                            .await
                            .map_err(|e| Error::Verification {
                                phase: "down fails to run".into(),
                                residual: e.to_string(),
                            })?;
                    let (before, name) = match i {
                        0 => (current, "the current schema"),
                        _ => (chain[i - 1].reaches, chain[i - 1].name),
                    };
                    compare(
                        &format!("down does not return to {name}"),
                        &read_to_compare(&db, manage, before).await?,
                        before,
                    )?;
                }
                Ok(())
            };
            if down_first {
                downs().await?;
            }
            for (i, m) in chain.iter().enumerate() {
                let before = storage(client).await?;
                let locks = apply::run_sql_file_counting_locks(client, m.up_sql, &file(i, "up"))
                    .await
                    .map_err(|e| Error::Verification {
                        phase: "up fails to run".into(),
                        residual: e.to_string(),
                    })?;
                let after = storage(client).await?;
                measured[i].up_locks = locks;
                measured[i].rewritten = (after.iter())
                    .filter(|(oid, (_, node))| before.get(oid).is_some_and(|(_, old)| old != node))
                    .map(|(_, (name, _))| name.clone())
                    .collect();
                compare(
                    &format!("up does not reach {}", m.name),
                    &read_to_compare(&db, manage, m.reaches).await?,
                    m.reaches,
                )?;
            }
            if !down_first {
                downs().await?;
            }
            for (m, down) in measured.iter_mut().zip(down_locks) {
                m.down_locks = down;
            }
            Ok(measured)
        })
        .await
}

/// Each table's storage file by oid, with the table's name.
async fn storage(client: &tokio_postgres::Client) -> Result<BTreeMap<i64, (QualifiedName, i64)>> {
    let rows = client
        .query(include_str!("relfilenodes.sql"), &[])
        .await
        .map_err(Error::db("reading the shadow's relfilenodes"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let name = QualifiedName::new(r.get::<_, String>(1), r.get::<_, String>(2));
            (r.get(0), (name, r.get(3)))
        })
        .collect())
}

/// The current state after `sql` (a plan's renames), as PostgreSQL makes it in the shadow.
#[tracing::instrument(skip_all)]
pub async fn state_after(
    shadow: &Shadow,
    state: &Prepared,
    sql: &str,
    manage: Manage,
) -> Result<Catalog> {
    shadow
        .in_copy(state, "renamed", |db| async move {
            apply::run_sql_file(&db.client, sql, Path::new("<renames>")).await?;
            read(&db, manage).await
        })
        .await
}

/// A live schema rebuilt from its catalog in a scratch database (the same renderer, each
/// extension at the version it has there), checked to read back as `current`.
#[tracing::instrument(skip_all)]
pub async fn rebuilt(shadow: &Shadow, current: &mut Catalog, manage: Manage) -> Result<Prepared> {
    let (_, state) = shadow
        .prepare("current", |db| async move {
            let client = &db.client;
            // What builds the state is let go of before it is read back: at 10,000 tables
            // the plan and its SQL are hundreds of megabytes.
            let sql = {
                let empty = read(&db, manage).await?;
                // Each extension at the version it has: pinned while the rebuild is planned
                // (in place: a copy of the catalog is a hundred megabytes at 10,000 tables).
                let pinned = (current.extensions.values())
                    .filter(|e| e.pinned)
                    .map(|e| e.name.clone())
                    .collect();
                let installed = current.extensions.keys().cloned().collect();
                current.pin_extensions(&installed);
                let setup = plan::plan(&empty, current);
                current.pin_extensions(&pinned);
                render::migration_file("current schema", &setup?, &Default::default())
            };
            let current = &*current;
            // A state to plan from, not a migration on trial: it commits as it goes.
            apply::replay_sql_file(client, &sql, Path::new("<current schema>")).await?;
            drop(sql);
            let rebuilt = read_to_compare(&db, manage, current).await?;
            compare("rebuilding the current schema in the shadow", &rebuilt, current)
        })
        .await?;
    Ok(state)
}

/// `catalog` written out as `schema/` files (`pull`), checked to load in a scratch database
/// as `plan` loads `schema/` and to read back as `catalog`: pulling and then planning
/// against the same database finds nothing.
#[tracing::instrument(skip_all)]
pub async fn pulled(
    shadow: &Shadow,
    catalog: &Catalog,
    manage: Manage,
    layout: render::Layout,
) -> Result<Vec<(String, String)>> {
    crate::shadow::in_scratch(shadow, "pulled", |db| async move {
        let client = &db.client;
        let empty = read(&db, manage).await?;
        let setup = plan::plan(&empty, catalog)?;
        let files = render::schema_files(&setup, catalog, layout);
        let mut statements = Vec::new();
        for (path, text) in &files {
            statements.extend(crate::source::split_statements(Path::new(path), text)?);
        }
        crate::shadow::load_statements(client, &statements).await?;
        let loaded = read_to_compare(&db, manage, catalog).await?;
        compare("loading the pulled schema", &loaded, catalog)?;
        Ok(files)
    })
    .await
}

/// Equal catalogs, or the residual difference as a diff of facts.
#[tracing::instrument(skip(got, want))]
pub fn compare(phase: &str, got: &Catalog, want: &Catalog) -> Result<()> {
    if got == want {
        return Ok(());
    }
    Err(Error::Verification { phase: phase.to_string(), residual: residual(got, want) })
}

/// `-` lines are what the database has and should not, `+` what it lacks.
pub fn residual(got: &Catalog, want: &Catalog) -> String {
    let (got, want) = (got.facts().join("\n") + "\n", want.facts().join("\n") + "\n");
    let diff = similar::TextDiff::from_lines(&got, &want);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => continue,
        };
        out.push_str(&format!("  {sign} {}", change));
    }
    out
}

/// The shadow's catalog, restricted as the plan's catalogs are.
async fn read(db: &ScratchDatabase, manage: Manage) -> Result<Catalog> {
    read_for(db, manage, Purpose::Plan, None).await
}

/// `read`, for a catalog that is only compared with `expected` and then let go; what is the
/// same in both is held once (at 10,000 tables a read-back held beside the plan's two
/// catalogs set a plan's peak).
async fn read_to_compare(
    db: &ScratchDatabase,
    manage: Manage,
    expected: &Catalog,
) -> Result<Catalog> {
    read_for(db, manage, Purpose::Compare, Some(expected)).await
}

async fn read_for(
    db: &ScratchDatabase,
    manage: Manage,
    purpose: Purpose,
    like: Option<&Catalog>,
) -> Result<Catalog> {
    let mut catalog = db.catalog_for(purpose, like).await?;
    catalog.restrict_to(manage);
    Ok(catalog)
}
