//! schemadiff: a declarative schema migrator for PostgreSQL.
//!
//! `schema/*.sql` says what the database should look like; `plan` finds what it looks like now
//! (the live database, or `generated/` replayed in a shadow database), diffs the two, orders
//! the changes, verifies them in a shadow database and writes numbered up/down files that
//! `apply` runs and records. This module is the public API the CLI and applications use.

pub mod apply;
pub mod catalog;
pub mod config;
pub mod connect;
pub mod diff;
pub mod error;
pub mod introspect;
pub mod migrations;
pub mod plan;
pub mod render;
pub mod shadow;
pub mod source;
pub mod verify;

use std::collections::BTreeSet;
use std::path::Path;

pub use config::Config;
pub use error::{Error, Result};
pub use migrations::describe;
pub use verify::residual;

use catalog::Catalog;
use migrations::Migration;
use plan::{HazardCode, Plan};
use shadow::Shadow;

/// What `plan` is asked to do.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub config: Config,
    /// Overrides the description derived from the changes.
    pub name: Option<String>,
    pub allow_hazards: BTreeSet<HazardCode>,
    /// Plan and verify, but write nothing.
    pub dry_run: bool,
}

/// What `plan` found and did.
#[derive(Debug)]
pub struct PlanOutcome {
    pub up: Plan,
    pub down: Plan,
    /// `NNN_description` of the migration.
    pub id: String,
    pub up_sql: String,
    pub down_sql: String,
    /// The files written; `None` for an empty plan or a dry run.
    pub written: Option<Migration>,
    /// Things the user should know that did not stop the plan.
    pub notes: Vec<String>,
}

/// Plans the next migration from the current state to `schema/`, verifies it, and writes it.
pub async fn plan(req: &PlanRequest) -> Result<PlanOutcome> {
    let cfg = &req.config;
    let statements = source::load_schema_dir(&cfg.schema_dir)?;
    let data_note = source::data_note(&statements, cfg.refuse_data)?;
    let existing = migrations::read_dir(&cfg.migrations_dir)?;
    migrations::verify_sum(&cfg.migrations_dir, &existing)?;

    let live = match &cfg.database_url {
        Some(url) => Some(connect::connect_url(url).await?),
        None => None,
    };
    if let Some(client) = &live {
        let history = apply::history(client).await?;
        apply::check_consistent(&existing, &history)?;
        let behind: Vec<String> = apply::states(&existing, &history)
            .into_iter()
            .filter(|(_, _, s)| *s != apply::State::Applied)
            .map(|(_, id, _)| id)
            .collect();
        if !behind.is_empty() {
            return Err(Error::Migrations(format!(
                "the database has not applied {} from {}; run `schemadiff apply` first, so the plan starts where the migrations end",
                behind.join(", "),
                cfg.migrations_dir.display()
            )));
        }
    }

    let shadow = Shadow::start(cfg.dev_url.as_deref())?;
    let mut notes = ignored_note(&cfg.schema_dir).into_iter().collect::<Vec<_>>();
    notes.extend(data_note);
    if let Some(client) = &live {
        shadow.ensure_roles(&introspect::roles(client).await?).await?;
        let (target, local) =
            (shadow::server_major_version(client).await?, shadow.server_major_version().await?);
        if target != local {
            notes.push(format!(
                "the shadow server is PostgreSQL {local} but the database is {target}; pass --dev-url to a {target} server for an exact check"
            ));
        }
    }
    let result = plan_in_shadow(req, &shadow, live.as_ref(), &statements, &existing, notes).await;
    drop(shadow);
    result
}

async fn plan_in_shadow(
    req: &PlanRequest,
    shadow: &Shadow,
    live: Option<&tokio_postgres::Client>,
    statements: &[source::Statement],
    existing: &[Migration],
    notes: Vec<String>,
) -> Result<PlanOutcome> {
    let cfg = &req.config;
    let (mut current, current_unmanaged) = match live {
        Some(client) => {
            (introspect::introspect(client).await?, introspect::unmanaged(client).await?)
        }
        None => replayed(shadow, existing).await?,
    };
    let (mut desired, desired_unmanaged) = loaded(shadow, statements).await?;
    desired.pin_extensions(&source::pinned_extensions(statements));
    current.restrict_to(cfg.manage);
    desired.restrict_to(cfg.manage);
    diff::refuse_unmanaged(cfg, &current_unmanaged, &desired_unmanaged)?;
    if let Some(client) = live {
        diff::refuse_missing_roles(&desired, &introspect::roles(client).await?)?;
    }

    let mut notes = notes;
    for index in current.invalid_indexes() {
        notes.push(format!(
            "index {index} is invalid (a failed CREATE INDEX CONCURRENTLY leaves one): the plan builds it again"
        ));
    }
    for (name, here, wanted) in current.extension_versions_apart(&desired) {
        notes.push(format!(
            "extension {name} is at version {here} in the database and {wanted} in the shadow; versions are not managed: run ALTER EXTENSION {name} UPDATE where you want it"
        ));
    }
    let up = plan::plan(&current, &desired)?;
    let down = plan::plan(&desired, &current)?;
    let version = existing.last().map_or(1, |m| m.version + 1);
    let description = match &req.name {
        Some(n) => migrations::slug(n),
        None => describe(&up),
    };
    let id = format!("{version:03}_{description}");
    let up_sql = render::migration_file(&format!("{id} (up)"), &up, &cfg.timeouts);
    let down_sql = render::migration_file(&format!("{id} (down)"), &down, &cfg.timeouts);
    let mut outcome = PlanOutcome { up, down, id, up_sql, down_sql, written: None, notes };
    if outcome.up.is_empty() {
        return Ok(outcome);
    }

    outcome.up.refuse_unallowed(&req.allow_hazards)?;

    verify::verify(
        shadow,
        if live.is_some() { verify::Current::Live } else { verify::Current::Replayed(existing) },
        &current,
        &desired,
        &outcome.up_sql,
        &outcome.down_sql,
        cfg.manage,
    )
    .await?;

    if !req.dry_run {
        outcome.written = Some(migrations::write_new(
            &cfg.migrations_dir,
            existing,
            &description,
            &outcome.up_sql,
            &outcome.down_sql,
        )?);
    }
    Ok(outcome)
}

/// A schema's catalog and the objects in it that schemadiff does not manage yet.
type State = (Catalog, BTreeSet<String>);

/// The state `generated/` replays to, in a scratch database.
async fn replayed(shadow: &Shadow, existing: &[Migration]) -> Result<State> {
    shadow::in_scratch(shadow, "current", |db| async move {
        shadow::replay(&db.client, existing).await?;
        Ok((introspect::introspect(&db.client).await?, introspect::unmanaged(&db.client).await?))
    })
    .await
}

/// The state `schema/` describes, loaded into a scratch database.
async fn loaded(shadow: &Shadow, statements: &[source::Statement]) -> Result<State> {
    shadow::in_scratch(shadow, "desired", |db| async move {
        shadow::load_statements(&db.client, statements).await?;
        Ok((introspect::introspect(&db.client).await?, introspect::unmanaged(&db.client).await?))
    })
    .await
}

/// Names the files in the schema directory that are not read.
fn ignored_note(dir: &Path) -> Option<String> {
    let files = source::ignored_files(dir);
    if files.is_empty() {
        return None;
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Some(format!("only .sql files are read as schema; not read: {}", names.join(", ")))
}

/// Why `generated/` is out of step with `schema/`, or the notes worth showing when they agree.
pub async fn check(config: &Config) -> Result<Vec<String>> {
    let statements = source::load_schema_dir(&config.schema_dir)?;
    let data_note = source::data_note(&statements, config.refuse_data)?;
    let existing = migrations::read_dir(&config.migrations_dir)?;
    migrations::verify_sum(&config.migrations_dir, &existing)?;
    let shadow = Shadow::start(config.dev_url.as_deref())?;
    let (mut current, current_unmanaged) = replayed(&shadow, &existing).await?;
    let (mut desired, desired_unmanaged) = loaded(&shadow, &statements).await?;
    current.restrict_to(config.manage);
    desired.restrict_to(config.manage);
    diff::refuse_unmanaged(config, &current_unmanaged, &desired_unmanaged)?;
    let pending = plan::plan(&current, &desired)?;
    if pending.is_empty() {
        return Ok(ignored_note(&config.schema_dir).into_iter().chain(data_note).collect());
    }
    let sql: Vec<String> = pending.steps.iter().flat_map(render::step_sql).collect();
    Err(Error::Migrations(format!(
        "{} is not in sync with {}: a plan would still run\n  {}\nrun `schemadiff plan` and commit the new migration",
        config.migrations_dir.display(),
        config.schema_dir.display(),
        sql.join("\n  ")
    )))
}

/// Connects to the target database named by the configuration.
pub async fn connect_target(config: &Config) -> Result<tokio_postgres::Client> {
    let Some(url) = &config.database_url else {
        return Err(Error::Usage(
            "no database given: pass --database-url or set the DATABASE_URL environment variable"
                .into(),
        ));
    };
    connect::connect_url(url).await
}
