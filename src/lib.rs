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

use std::collections::BTreeSet;
use std::path::Path;

pub use config::Config;
pub use error::{Error, Result};

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
    let (current, current_unmanaged) = match live {
        Some(client) => {
            (introspect::introspect(client).await?, introspect::unmanaged(client).await?)
        }
        None => replayed(shadow, existing).await?,
    };
    let (desired, desired_unmanaged) = loaded(shadow, statements).await?;
    refuse_unmanaged(cfg, &current_unmanaged, &desired_unmanaged)?;
    if let Some(client) = live {
        refuse_missing_roles(&desired, &introspect::roles(client).await?)?;
    }

    let up = plan::plan(&current, &desired)?;
    let down = plan::plan(&desired, &current)?;
    let version = existing.last().map_or(1, |m| m.version + 1);
    let description = match &req.name {
        Some(n) => migrations::slug(n),
        None => describe(&up),
    };
    let id = format!("{version:03}_{description}");
    let up_sql = render::migration_file(&format!("{id} (up)"), &up);
    let down_sql = render::migration_file(&format!("{id} (down)"), &down);
    let mut outcome = PlanOutcome { up, down, id, up_sql, down_sql, written: None, notes };
    if outcome.up.is_empty() {
        return Ok(outcome);
    }

    let refused: Vec<String> = outcome
        .up
        .steps
        .iter()
        .flat_map(|s| s.hazards.iter())
        .filter(|h| !req.allow_hazards.contains(&h.code))
        .map(|h| format!("  {}: {}", h.code, h.reason))
        .collect();
    if !refused.is_empty() {
        let codes: BTreeSet<&str> = outcome
            .up
            .hazard_codes()
            .into_iter()
            .filter(|c| !req.allow_hazards.contains(c))
            .map(HazardCode::as_str)
            .collect();
        return Err(Error::HazardsNotAllowed {
            list: refused.join("\n"),
            codes: codes.into_iter().collect::<Vec<_>>().join(","),
        });
    }

    verify(shadow, live.is_some(), existing, &current, &desired, &outcome).await?;

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
    in_scratch(shadow, "current", |db| async move {
        shadow::replay(&db.client, existing).await?;
        Ok((introspect::introspect(&db.client).await?, introspect::unmanaged(&db.client).await?))
    })
    .await
}

/// The state `schema/` describes, loaded into a scratch database.
async fn loaded(shadow: &Shadow, statements: &[source::Statement]) -> Result<State> {
    in_scratch(shadow, "desired", |db| async move {
        shadow::load_statements(&db.client, statements).await?;
        Ok((introspect::introspect(&db.client).await?, introspect::unmanaged(&db.client).await?))
    })
    .await
}

/// Objects schemadiff cannot manage that differ between the two sides stop the plan: a
/// migration that silently left them out would pass review and CI while the schema and the
/// database disagree. `exclude` in `schemadiff.toml` accepts them by name.
fn refuse_unmanaged(
    config: &Config,
    current: &BTreeSet<String>,
    desired: &BTreeSet<String>,
) -> Result<()> {
    let differ: Vec<String> = current
        .symmetric_difference(desired)
        .filter(|o| !config.excludes(o))
        .map(|o| {
            format!(
                "  {o} ({})",
                if desired.contains(o) { "only in schema" } else { "only in the current state" }
            )
        })
        .collect();
    if differ.is_empty() {
        return Ok(());
    }
    Err(Error::Unmanaged(differ.join("\n")))
}

/// Roles are cluster objects that migrations do not create: a role the schema names and the
/// target lacks would fail there, so the plan stops first and names it.
fn refuse_missing_roles(desired: &Catalog, target_roles: &[String]) -> Result<()> {
    let named: BTreeSet<&String> = desired
        .objects
        .values()
        .filter_map(|o| match o {
            catalog::Object::Policy(p) => Some(p.roles.iter()),
            _ => None,
        })
        .flatten()
        .filter(|r| *r != "public" && !target_roles.contains(r))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = named.into_iter().map(String::as_str).collect();
    Err(Error::Usage(format!(
        "the schema names roles the database does not have: {}; create them there first (roles belong to the cluster, not to a migration)",
        names.join(", ")
    )))
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

/// Runs `work` in a new scratch database and drops the database afterwards.
async fn in_scratch<T, F, Fut>(shadow: &Shadow, purpose: &str, work: F) -> Result<T>
where
    F: FnOnce(std::sync::Arc<shadow::ScratchDatabase>) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let db = std::sync::Arc::new(shadow.create_database(purpose).await?);
    let result = work(db.clone()).await;
    if let Ok(db) = std::sync::Arc::try_unwrap(db) {
        shadow.drop_database(db).await?;
    }
    result
}

/// Replays the current state, then up and down, in a scratch database, checking each result.
async fn verify(
    shadow: &Shadow,
    current_is_live: bool,
    existing: &[Migration],
    current: &Catalog,
    desired: &Catalog,
    outcome: &PlanOutcome,
) -> Result<()> {
    let planned = Path::new("<planned>");
    in_scratch(shadow, "verify", |db| async move {
        let client = &db.client;
        if current_is_live {
            // Rebuild the live schema from its catalog: the same renderer, from an empty database.
            let empty = introspect::introspect(client).await?;
            let setup = plan::plan(&empty, current)?;
            let sql = render::migration_file("current schema", &setup);
            apply::run_in_transaction(client, &sql, Path::new("<current schema>")).await?;
            compare(
                "rebuilding the current schema in the shadow",
                &introspect::introspect(client).await?,
                current,
            )?;
        } else {
            shadow::replay(client, existing).await?;
        }
        apply::run_in_transaction(client, &outcome.up_sql, &planned.join("up.sql")).await.map_err(
            |e| Error::Verification { phase: "up fails to run".into(), residual: e.to_string() },
        )?;
        compare("up does not reach schema/", &introspect::introspect(client).await?, desired)?;
        apply::run_in_transaction(client, &outcome.down_sql, &planned.join("down.sql"))
            .await
            .map_err(|e| Error::Verification {
                phase: "down fails to run".into(),
                residual: e.to_string(),
            })?;
        compare(
            "down does not return to the current schema",
            &introspect::introspect(client).await?,
            current,
        )
    })
    .await
}

/// Equal catalogs, or the residual difference as a diff of facts.
fn compare(phase: &str, got: &Catalog, want: &Catalog) -> Result<()> {
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

/// A file-name description derived from the changes, such as `add_email_to_contacts`.
pub fn describe(plan: &Plan) -> String {
    use diff::Change::*;
    // Each change as a phrase and the object it is about (a table or a type).
    let mut phrases: Vec<(String, Option<(u8, String)>)> = Vec::new();
    for step in &plan.steps {
        let (phrase, subject) = match &step.change {
            CreateTable(t) => (format!("create_{}", t.name.name), Some((0, t.name.name.clone()))),
            DropTable { table, .. } => {
                (format!("drop_{}", table.name.name), Some((0, table.name.name.clone())))
            }
            AddColumn { table, column, .. } => {
                (format!("add_{}_to_{}", column.name, table.name), Some((0, table.name.clone())))
            }
            DropColumn { table, column, .. } => {
                (format!("drop_{}_from_{}", column.name, table.name), Some((0, table.name.clone())))
            }
            AlterColumn { table, to, .. } => {
                (format!("alter_{}_{}", table.name, to.name), Some((0, table.name.clone())))
            }
            AddConstraint { table, constraint } => {
                (format!("add_{}", constraint.name), Some((0, table.name.clone())))
            }
            DropConstraint { table, constraint } => {
                (format!("drop_{}", constraint.name), Some((0, table.name.clone())))
            }
            CreateIndex(i) => {
                (format!("create_index_{}", i.name.name), Some((0, i.table.name.clone())))
            }
            DropIndex(i) => {
                (format!("drop_index_{}", i.name.name), Some((0, i.table.name.clone())))
            }
            CreateEnum(e) => {
                (format!("create_type_{}", e.name.name), Some((1, e.name.name.clone())))
            }
            DropEnum(e) => (format!("drop_type_{}", e.name.name), Some((1, e.name.name.clone()))),
            AddEnumValue { name, value, .. } => {
                (format!("add_{value}_to_{}", name.name), Some((1, name.name.clone())))
            }
            RecreateEnum { to, .. } => {
                (format!("alter_type_{}", to.name.name), Some((1, to.name.name.clone())))
            }
            CreateSchema(s) => (format!("create_schema_{}", s.name), None),
            DropSchema { schema, .. } => (format!("drop_schema_{}", schema.name), None),
            CreateExtension(e) => (format!("create_extension_{}", e.name), None),
            DropExtension(e) => (format!("drop_extension_{}", e.name), None),
            CreateSequence(s) => (format!("create_sequence_{}", s.name.name), None),
            DropSequence(s) => (format!("drop_sequence_{}", s.name.name), None),
            AlterSequence { name, .. } => (format!("alter_sequence_{}", name.name), None),
            AlterExtensionSchema { name, .. } => (format!("move_extension_{name}"), None),
            CreateObject(o) => (format!("create_{}", object_phrase(o)), object_subject(o)),
            DropObject(o) => (format!("drop_{}", object_phrase(o)), object_subject(o)),
            ReplaceObject { to, .. } | AlterObject { to, .. } => {
                (format!("alter_{}", object_phrase(to)), object_subject(to))
            }
            SetRowSecurity { table, enabled, .. } => (
                format!(
                    "{}_row_security_on_{}",
                    if *enabled { "enable" } else { "disable" },
                    table.name
                ),
                Some((0, table.name.clone())),
            ),
            AttachPartition { table, partition } => (
                format!("attach_{}_to_{}", table.name, partition.parent.name),
                Some((0, partition.parent.name.clone())),
            ),
            DetachPartition { table, parent } => (
                format!("detach_{}_from_{}", table.name, parent.name),
                Some((0, parent.name.clone())),
            ),
            SetInherits { table, .. } | SetTableProperties { table, .. } => {
                (format!("alter_{}", table.name), Some((0, table.name.clone())))
            }
            SetSequenceOwner { .. } | Comment { .. } => continue,
        };
        if !phrases.iter().any(|(p, _)| *p == phrase) {
            phrases.push((phrase, subject));
        }
    }
    // Tables say most about a migration, then types: their phrases come first.
    phrases.sort_by_key(|(_, subject)| subject.as_ref().map_or(2, |(rank, _)| *rank));
    let subjects: BTreeSet<&String> =
        phrases.iter().filter_map(|(_, s)| s.as_ref().map(|(_, n)| n)).collect();
    let text = match phrases.as_slice() {
        [] => "comments".to_string(),
        [(only, _)] => only.clone(),
        [(first, Some((_, subject))), ..] if subjects.len() == 1 => {
            // Several changes to one object: creating it, or altering it.
            if first.starts_with("create_") && !first.starts_with("create_index_") {
                first.clone()
            } else {
                format!("alter_{subject}")
            }
        }
        [(first, _), (second, _)] if first.len() + second.len() + 5 <= 60 => {
            format!("{first}_and_{second}")
        }
        [(first, _), rest @ ..] => format!("{first}_and_{}_more", rest.len()),
    };
    migrations::slug(&text)
}

/// `view_active_contacts`, `trigger_set_updated_at_on_contacts`.
fn object_phrase(o: &catalog::Object) -> String {
    let kind = o.kind().keyword().to_lowercase().replace(' ', "_");
    match o {
        catalog::Object::Trigger(t) => format!("{kind}_{}_on_{}", t.name, t.table.name),
        catalog::Object::Policy(p) => format!("{kind}_{}_on_{}", p.name, p.table.name),
        catalog::Object::Rule(r) => format!("{kind}_{}_on_{}", r.name, r.table.name),
        _ => format!("{kind}_{}", o.name().name),
    }
}

/// Triggers and policies are about their table; other objects about themselves.
fn object_subject(o: &catalog::Object) -> Option<(u8, String)> {
    match o {
        catalog::Object::Trigger(_) | catalog::Object::Policy(_) | catalog::Object::Rule(_) => {
            Some((0, o.name().name.clone()))
        }
        _ => Some((1, o.name().name.clone())),
    }
}

/// Why `generated/` is out of step with `schema/`, or the notes worth showing when they agree.
pub async fn check(config: &Config) -> Result<Vec<String>> {
    let statements = source::load_schema_dir(&config.schema_dir)?;
    let existing = migrations::read_dir(&config.migrations_dir)?;
    migrations::verify_sum(&config.migrations_dir, &existing)?;
    let shadow = Shadow::start(config.dev_url.as_deref())?;
    let (current, current_unmanaged) = replayed(&shadow, &existing).await?;
    let (desired, desired_unmanaged) = loaded(&shadow, &statements).await?;
    refuse_unmanaged(config, &current_unmanaged, &desired_unmanaged)?;
    let pending = plan::plan(&current, &desired)?;
    if pending.is_empty() {
        return Ok(ignored_note(&config.schema_dir).into_iter().collect());
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
