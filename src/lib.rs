//! schemadiff: a declarative schema migrator for PostgreSQL.
//!
//! `schema/*.sql` says what the database should look like; `plan` finds what it looks like now
//! (the live database, or `generated/` replayed in a shadow database), diffs the two, orders
//! the changes, verifies them in a shadow database and writes numbered up/down files that
//! `apply` runs and records. This module is the public API the CLI and applications use.

pub mod apply;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod connect;
pub mod diff;
pub mod endpoint;
pub mod error;
pub mod import;
pub mod interrupt;
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
use shadow::{Prepared, Shadow, Side, SideBySide, State};
use verify::Kept;

/// Applies every pending migration at an application's start-up: the same checks and
/// history as `schemadiff apply`, waiting (up to 5 minutes) while another replica's run holds
/// the lock, and stopping before a rename's contract as the CLI does without `--contract`.
///
/// ```no_run
/// # async fn start(client: tokio_postgres::Client) -> schemadiff::Result<()> {
/// static MIGRATIONS: include_dir::Dir = include_dir::include_dir!("$CARGO_MANIFEST_DIR/generated");
/// let report = schemadiff::apply(&client, schemadiff::migrations::Source::Embedded(&MIGRATIONS)).await?;
/// for (id, ms) in &report.done {
///     println!("applied {id} in {ms} ms");
/// }
/// # Ok(()) }
/// ```
#[tracing::instrument(skip_all)]
pub async fn apply(
    client: &tokio_postgres::Client,
    source: migrations::Source<'_>,
) -> Result<apply::RunReport> {
    let all = source.load()?;
    let contracts = apply::Contracts { run: false, after: None, dry_run: false };
    apply::apply_with(&apply::Session::new(client), &all, &contracts).await
}

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

/// One migration of a plan; a column rename makes two, its expand and its contract.
#[derive(Debug)]
pub struct PlannedMigration {
    /// `NNN_description`.
    pub id: String,
    pub up: Plan,
    pub down: Plan,
    pub up_sql: String,
    pub down_sql: String,
    /// A rename's contract: `apply` runs it only with `--contract`, or once its expand is old
    /// enough.
    pub contract: bool,
    /// The files written; `None` for a dry run.
    pub written: Option<Migration>,
}

/// What `plan` found and did.
#[derive(Debug)]
pub struct PlanOutcome {
    /// Empty when the database already matches `schema/`.
    pub migrations: Vec<PlannedMigration>,
    /// Things the user should know that did not stop the plan.
    pub notes: Vec<String>,
}

impl PlanOutcome {
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}

/// Plans the next migration from the current state to `schema/`, verifies it, and writes it.
#[tracing::instrument(skip_all)]
pub async fn plan(req: &PlanRequest) -> Result<PlanOutcome> {
    let cfg = &req.config;
    // Planned from `generated/` alone, the outcome depends on the files and settings only: a
    // state found in sync before is in sync now, with nothing to parse (at 10,000 tables,
    // parsing `schema/` was most of such a run's second and 190 MB).
    let sync_key = cfg.database_url.is_none().then(|| cache::sync_key(cfg)).flatten();
    if let Some(in_sync) = sync_key.as_deref().and_then(cache::known_in_sync) {
        let notes = ignored_note(&cfg.schema_dir).into_iter().chain(in_sync.data_note).collect();
        return Ok(PlanOutcome { migrations: Vec::new(), notes });
    }
    let statements = source::load_schema_dir(&cfg.schema_dir)?;
    let renames = source::load_renames(&cfg.schema_dir)?;
    let data_note = source::data_note(&statements, cfg.refuse_data)?;
    let existing = migrations::read_checked(&cfg.migrations_dir)?;

    let live = match &cfg.database_url {
        Some(url) => Some(connect::connect_info(url).await?),
        None => None,
    };
    if let Some(client) = &live {
        let history = apply::history(client, &cfg.history_table).await?;
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

    let mut notes = ignored_note(&cfg.schema_dir).into_iter().collect::<Vec<_>>();
    notes.extend(data_note.clone());
    let notes_before = notes.len();
    let (shadow, version_note) = shadow_like(cfg.dev_url.as_ref(), live.as_ref()).await?;
    notes.extend(version_note);
    if let Some(client) = &live {
        shadow.ensure_roles(&introspect::roles(client).await?).await?;
    }
    let pinned = source::pinned_extensions(&statements);
    let source = Source { dir: Some(&cfg.schema_dir), pinned: &pinned, renames: &renames };
    let result =
        plan_in_shadow(req, &shadow, live.as_ref(), statements, source, &existing, notes).await;
    drop(shadow);
    if let (Some(key), Ok(outcome)) = (&sync_key, &result)
        && outcome.is_empty()
        && outcome.notes.len() == notes_before
    {
        cache::remember_in_sync(key, data_note.as_deref());
    }
    result
}

/// What `pull` is asked to do.
#[derive(Debug, Clone)]
pub struct PullRequest {
    pub config: Config,
    pub layout: render::Layout,
    /// Replace the `.sql` files the schema directory already holds.
    pub force: bool,
}

/// Writes the desired-state schema from a live database: the statements that make it from an
/// empty database, as `plan` renders them, in files under the schema directory. Nothing is
/// written unless the files load in a shadow and read back as the database, so that planning
/// against it afterwards finds nothing. Returns the files written.
#[tracing::instrument(skip_all)]
pub async fn pull(req: &PullRequest) -> Result<Vec<std::path::PathBuf>> {
    let cfg = &req.config;
    let Some(url) = &cfg.database_url else {
        return Err(Error::Usage(
            "`pull` reads a live database: pass --database-url (or set DATABASE_URL)".into(),
        ));
    };
    let dir = &cfg.schema_dir;
    let existing = if dir.exists() { source::sql_files(dir)? } else { Vec::new() };
    if !existing.is_empty() && !req.force {
        return Err(Error::Usage(format!(
            "{} already holds {} .sql file(s) ({}); pull writes the whole schema, so move them away or pass --force to replace them",
            dir.display(),
            existing.len(),
            existing[0].display()
        )));
    }
    let client = connect::connect_info(url).await?;
    let mut live = introspect::introspect(&client).await?;
    live.restrict_to(cfg.manage);
    // Read back in a server of another version, catalog text may differ: pull refuses
    // rather than writes what it could not check, so the version note is not needed here.
    let (shadow, _) = Shadow::start_for(cfg.dev_url.as_ref(), &client).await?;
    shadow.ensure_roles(&introspect::roles(&client).await?).await?;
    let files = verify::pulled(&shadow, &live, cfg.manage, req.layout).await?;
    drop(shadow);
    write_schema_files(dir, &existing, files)
}

/// What `import` is asked to do.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub config: Config,
    /// The other tool's migration folder.
    pub dir: std::path::PathBuf,
    pub layout: render::Layout,
    /// Replace the `.sql` files the schema directory already holds.
    pub force: bool,
}

/// What `import` read and wrote.
#[derive(Debug)]
pub struct ImportOutcome {
    pub steps: Vec<import::Step>,
    /// How many of them the database (or a `pending/` folder) says are not applied yet.
    pub pending: usize,
    pub schema_files: Vec<std::path::PathBuf>,
    /// The baseline migration, then one of the pending steps when there are any.
    pub migrations: Vec<PlannedMigration>,
    /// The migration tables of other tools the database has.
    pub tracking: Vec<apply::TrackingTable>,
}

/// Brings a hand-written migration folder under schemadiff: its up steps replayed in a
/// shadow, `schema/` written from the state they make (verified to read back as it, as
/// `pull` does), and `generated/` begun with a baseline migration to the state the database
/// stands at, then one migration of the steps not applied yet. With a database, its tracking
/// table says how far it is: steps after its latest version are pending.
#[tracing::instrument(skip_all)]
pub async fn import(req: &ImportRequest) -> Result<ImportOutcome> {
    let cfg = &req.config;
    let steps = import::read_folder(&req.dir)?;
    let dir = &cfg.schema_dir;
    let existing = if dir.exists() { source::sql_files(dir)? } else { Vec::new() };
    if !existing.is_empty() && !req.force {
        return Err(Error::Usage(format!(
            "{} already holds {} .sql file(s); import writes the whole schema, so move them away or pass --force to replace them",
            dir.display(),
            existing.len()
        )));
    }
    if !migrations::read_checked(&cfg.migrations_dir)?.is_empty() {
        return Err(Error::Usage(format!(
            "{} already holds migrations; import begins a migrations folder, so give it an empty one (--migrations-dir)",
            cfg.migrations_dir.display()
        )));
    }
    let client = match &cfg.database_url {
        Some(url) => Some(connect::connect_info(url).await?),
        None => None,
    };
    let tracking = match &client {
        Some(c) => apply::tracking_tables(c).await?,
        None => Vec::new(),
    };
    let latest = tracking.iter().find_map(|t| t.latest.as_deref()).map(import::version_key);
    let is_pending =
        |s: &import::Step| s.pending || latest.as_ref().is_some_and(|v| &s.version_key() > v);
    let applied = steps.iter().position(is_pending).unwrap_or(steps.len());
    if let Some(late) = steps[applied..].iter().find(|s| !is_pending(s)) {
        return Err(Error::Migrations(format!(
            "{} is applied but comes after {}, which is not: the folder's order and the database disagree",
            late.path.display(),
            steps[applied].path.display()
        )));
    }

    let (shadow, _) = shadow_like(cfg.dev_url.as_ref(), client.as_ref()).await?;
    if let Some(c) = &client {
        shadow.ensure_roles(&introspect::roles(c).await?).await?;
    }
    let (before, after) = (&steps[..applied], &steps[applied..]);
    let (applied_state, final_state) = shadow::in_scratch(&shadow, "import", |db| async move {
        let client = &db.client;
        let mut states = Vec::new();
        for part in [before, after] {
            for step in part {
                apply::run_sql_file(client, &step.sql, &step.path).await?;
            }
            let mut catalog = db.catalog().await?;
            catalog.restrict_to(cfg.manage);
            states.push(catalog);
        }
        let final_state = states.pop().expect("two states");
        Ok((states.pop().expect("two states"), final_state))
    })
    .await?;

    // schema/ as the database stands, and the baseline planned to it from nothing; then, when
    // steps are pending, schema/ as they leave it and their migration.
    let plan_to = async |catalog: &Catalog, name: &str, old: &[std::path::PathBuf]| {
        let files = verify::pulled(&shadow, catalog, cfg.manage, req.layout).await?;
        let written = write_schema_files(dir, old, files)?;
        let config = Config { database_url: None, ..cfg.clone() };
        let request = PlanRequest {
            config,
            name: Some(name.to_string()),
            allow_hazards: HazardCode::ALL.into_iter().collect(),
            dry_run: false,
        };
        Ok::<_, Error>((written, plan(&request).await?.migrations))
    };
    let (mut schema_files, mut planned) = plan_to(&applied_state, "baseline", &existing).await?;
    if !after.is_empty() {
        let (files, more) = plan_to(&final_state, "pending migrations", &schema_files).await?;
        schema_files = files;
        planned.extend(more);
    }
    Ok(ImportOutcome { pending: after.len(), steps, schema_files, migrations: planned, tracking })
}

/// Writes `files` (paths under `dir`) in place of `old`.
fn write_schema_files(
    dir: &Path,
    old: &[std::path::PathBuf],
    files: Vec<(String, String)>,
) -> Result<Vec<std::path::PathBuf>> {
    for path in old {
        std::fs::remove_file(path).map_err(Error::io(path))?;
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(&path, text).map_err(Error::io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// What `diff` is asked to do.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    pub config: Config,
    pub from: endpoint::Endpoint,
    pub to: endpoint::Endpoint,
}

/// The migration from one state to another, each a database, a schema directory or a
/// migrations directory: planned and verified as `plan` does, written nowhere. Hazards are
/// shown, not refused; renames are those the `to` schema declares.
#[tracing::instrument(skip_all)]
pub async fn diff(req: &DiffRequest) -> Result<PlanOutcome> {
    use endpoint::Endpoint;
    let cfg = &req.config;
    let client = async |side: &Endpoint| match side {
        Endpoint::Database(info) => connect::connect_info(info).await.map(Some),
        _ => Ok(None),
    };
    let (from_client, to_client) = (client(&req.from).await?, client(&req.to).await?);
    let (statements, renames) = match &req.to {
        Endpoint::Schema(dir) => (source::load_schema_dir(dir)?, source::load_renames(dir)?),
        _ => (Vec::new(), Vec::new()),
    };
    let pinned = source::pinned_extensions(&statements);
    let (shadow, version_note) =
        shadow_like(cfg.dev_url.as_ref(), from_client.as_ref().or(to_client.as_ref())).await?;
    for c in [&from_client, &to_client].into_iter().flatten() {
        shadow.ensure_roles(&introspect::roles(c).await?).await?;
    }
    // From a live database to a directory, the directory's state is built in the shadow
    // anyway: kept, it is verified in down first, as `plan` does (see `plan_in_shadow`), and
    // the live schema is not rebuilt.
    let down_first = from_client.is_some() && !matches!(req.to, Endpoint::Database(_));
    let current = async {
        let state = match (&req.from, &from_client) {
            (Endpoint::Database(info), Some(c)) if down_first => {
                return Ok((live_catalog(c, Some(info), cfg.manage).await?, None));
            }
            (Endpoint::Database(info), Some(c)) => {
                live_state(&shadow, c, Some(info), cfg.manage).await
            }
            (_, Some(c)) => live_state(&shadow, c, None, cfg.manage).await,
            (Endpoint::Migrations(dir), _) => {
                replayed(&shadow, &migrations::read_checked(dir)?).await
            }
            (_, None) => {
                let dir = match &req.from {
                    Endpoint::Schema(dir) => dir,
                    _ => unreachable!("a database has a client"),
                };
                loaded_kept(&shadow, "current", source::load_schema_dir(dir)?).await
            }
        };
        state.map(|(current, state)| (current, Some(Kept::Current(state))))
    };
    let desired = async {
        let state = match &req.to {
            Endpoint::Schema(_) if down_first => loaded_kept(&shadow, "desired", statements).await,
            Endpoint::Migrations(dir) if down_first => {
                replayed(&shadow, &migrations::read_checked(dir)?).await
            }
            _ => return Ok((state_of(&shadow, &req.to, to_client.as_ref()).await?, None)),
        };
        state.map(|(desired, state)| (desired, Some(Kept::Reached(state))))
    };
    let ((current, current_kept), (desired, desired_kept)) =
        both(&shadow, current, desired).await?;
    let mut kept = current_kept.or(desired_kept).expect("one side is kept");
    let plan = PlanRequest {
        config: cfg.clone(),
        name: None,
        allow_hazards: HazardCode::ALL.into_iter().collect(),
        dry_run: true,
    };
    let dir = match &req.to {
        Endpoint::Schema(dir) => Some(dir.as_path()),
        _ => None,
    };
    let source = Source { dir, pinned: &pinned, renames: &renames };
    let result = plan_from(
        &plan,
        &shadow,
        from_client.as_ref(),
        source,
        &[],
        version_note.into_iter().collect(),
        current,
        desired,
        &mut kept,
    )
    .await;
    shadow.discard(kept.into_prepared()).await?;
    result
}

/// A shadow of `like`'s major version when there is a database to match, with the note
/// `Shadow::start_for` gives; else the default shadow.
async fn shadow_like(
    dev_url: Option<&connect::ConnInfo>,
    like: Option<&tokio_postgres::Client>,
) -> Result<(Shadow, Option<String>)> {
    match like {
        Some(client) => Shadow::start_for(dev_url, client).await,
        None => Ok((Shadow::start(dev_url)?, None)),
    }
}

/// What a plan keeps of `schema/` once it is loaded into the shadow: where it is, the
/// extensions it pins and the renames it declares. Its statements are dropped once loaded
/// (50,000 of them, 12 MB, at 10,000 tables, held while both catalogs are read and the plan
/// verified) and read again for the expand phase of a rename.
#[derive(Clone, Copy)]
struct Source<'a> {
    dir: Option<&'a std::path::Path>,
    pinned: &'a std::collections::BTreeSet<String>,
    renames: &'a [source::RenameDecl],
}

async fn plan_in_shadow(
    req: &PlanRequest,
    shadow: &Shadow,
    live: Option<&tokio_postgres::Client>,
    statements: Vec<source::Statement>,
    source: Source<'_>,
    existing: &[Migration],
    notes: Vec<String>,
) -> Result<PlanOutcome> {
    let cfg = &req.config;
    // The current state and the desired one are read at once. Against a live database the
    // current state is its catalog, and `schema/` loaded is kept to verify the plan in (down
    // first); from `generated/` the replayed state is kept (up first).
    let (current, desired) = match live {
        Some(client) => {
            // The live catalog is read while `schema/` loads, and is there when the loaded
            // state is read: the reads take turns.
            let states = SideBySide::default();
            let read = &states;
            let current = read.read_by(
                Side::Current,
                live_catalog(client, cfg.database_url.as_ref(), cfg.manage),
            );
            let desired =
                shadow.prepare("desired", move |db| read.loaded(Side::Desired, db, statements));
            let state = match tokio::join!(current, desired) {
                (Ok(()), Ok(((), state))) => state,
                (Err(e), desired) => {
                    if let Ok(((), state)) = desired {
                        let _ = shadow.discard(state).await;
                    }
                    return Err(e);
                }
                (Ok(()), Err(e)) => return Err(e),
            };
            let (current, desired) = states.into_states();
            ((current, None), (desired, Some(Kept::Reached(state))))
        }
        None => {
            let states = SideBySide::default();
            let read = &states;
            let current =
                shadow.prepare("current", |db| read.replayed(Side::Current, db, existing));
            let desired = shadow::in_scratch(shadow, "desired", move |db| {
                read.loaded(Side::Desired, db, statements)
            });
            let state = match tokio::join!(current, desired) {
                (Ok(((), state)), Ok(())) => state,
                (Ok(((), state)), Err(e)) => {
                    let _ = shadow.discard(state).await;
                    return Err(e);
                }
                (Err(e), _) => return Err(e),
            };
            let (current, desired) = states.into_states();
            ((current, Some(Kept::Current(state))), (desired, None))
        }
    };
    let mut kept = current.1.or(desired.1).expect("one side is kept");
    let result =
        plan_from(req, shadow, live, source, existing, notes, current.0, desired.0, &mut kept)
            .await;
    shadow.discard(kept.into_prepared()).await?;
    result
}

/// The plan from the current state to the desired one, verified in the state `kept` holds.
#[allow(clippy::too_many_arguments)]
async fn plan_from(
    req: &PlanRequest,
    shadow: &Shadow,
    live: Option<&tokio_postgres::Client>,
    source: Source<'_>,
    existing: &[Migration],
    notes: Vec<String>,
    (mut current, current_unmanaged): State,
    (mut desired, desired_unmanaged): State,
    kept: &mut Kept,
) -> Result<PlanOutcome> {
    let cfg = &req.config;
    desired.pin_extensions(source.pinned);
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

    // Plain renames run first; the rest is planned from the state they leave, which the
    // shadow makes. A column rename goes through an expand state between two migrations.
    let renames = plan::renames::resolve(source.renames, &current, &desired, &mut notes);
    // Renames are made in the shadow, from the current state: built now when only the state
    // the plan reaches was kept.
    if !renames.plain.is_empty() {
        kept.make_current(shadow, &mut current, cfg.manage).await?;
    }
    // Without renames the current state is the one planned from: borrowed, not copied (a
    // catalog of 10,000 tables is tens of megabytes).
    let renamed: std::borrow::Cow<Catalog> = match renames.plain.is_empty() {
        true => std::borrow::Cow::Borrowed(&current),
        false => std::borrow::Cow::Owned({
            let sql = render::migration_file(
                "renames",
                &Plan::default().then(renames.plain.clone()),
                &cfg.timeouts,
            );
            let Kept::Current(state) = &*kept else { unreachable!("built above") };
            verify::state_after(shadow, state, &sql, cfg.manage).await?
        }),
    };
    let mut stages: Vec<(Catalog, &str)> = Vec::new();
    if renames.expands() {
        let kept = plan::renames::kept_while_expanded(&renames, &renamed, &desired);
        let extra = render::expanded_state(&kept, &renames);
        let dir = source.dir.expect("renames that expand are declared in schema/");
        let (mut expanded, _) = loaded(shadow, source::load_schema_dir(dir)?, &extra).await?;
        expanded.pin_extensions(source.pinned);
        expanded.restrict_to(cfg.manage);
        stages.push((expanded, "the expand phase"));
    }
    stages.push((desired, "schema/"));

    let mut planned = Vec::new();
    let mut before: &Catalog = &renamed;
    for (k, (state, _)) in stages.iter().enumerate() {
        let mut up = plan::plan_with(before, state, &renames.copies)?;
        let mut down = plan::plan_with(state, before, &renames.copies)?;
        if k == 0 {
            up = up.after(renames.plain.clone());
            down = down.then(renames.reversed());
        }
        planned.push((up, down));
        before = state;
    }
    if planned.iter().all(|(up, _)| up.is_empty()) {
        return Ok(PlanOutcome { migrations: Vec::new(), notes });
    }
    // From here on the states are only compared with what the shadow reads back.
    drop(renamed);
    current.forget_dependencies();
    for (state, _) in &mut stages {
        state.forget_dependencies();
        state.share_with(&current, catalog::Alike::Compared);
    }
    let ups = planned.iter().flat_map(|(up, _)| &up.steps);
    plan::refuse_unallowed(ups, &req.allow_hazards, render::step_head)?;

    let first = existing.last().map_or(1, |m| m.version + 1);
    let two = planned.len() == 2;
    let mut migrations = Vec::new();
    for (k, (up, down)) in planned.into_iter().enumerate() {
        let contract = two && k == 1;
        let description = match (&req.name, two) {
            (Some(n), false) => migrations::slug(n),
            (None, false) => describe(&up),
            (name, true) => {
                let base = name.clone().unwrap_or_else(|| renames.describe());
                migrations::slug(&format!(
                    "{}_{base}",
                    if contract { "contract" } else { "expand" }
                ))
            }
        };
        let id = format!("{:03}_{description}", first + k as u32);
        let (up_title, down_title) = (format!("{id} (up)"), format!("{id} (down)"));
        let up_sql = match contract {
            true => render::contract_file(&up_title, &up, &cfg.timeouts),
            false => render::migration_file(&up_title, &up, &cfg.timeouts),
        };
        let down_sql = render::migration_file(&down_title, &down, &cfg.timeouts);
        migrations.push(PlannedMigration {
            id,
            up,
            down,
            up_sql,
            down_sql,
            contract,
            written: None,
        });
    }

    let chain: Vec<verify::Planned> = (migrations.iter().zip(&stages))
        .map(|(m, (state, name))| verify::Planned {
            up_sql: &m.up_sql,
            down_sql: &m.down_sql,
            reaches: state,
            name,
        })
        .collect();
    let measured = match verify::verify(shadow, kept, &current, &chain, cfg.manage).await {
        // `schema/` as loaded can hold what no catalog read shows (a row of pg_proc updated
        // by hand, say), and the downs ran in it: the plan is proven again as it runs for
        // real, from the current state rebuilt. Only a live database's plan keeps `schema/`,
        // and its catalog is read again: the rebuild is ordered by the edges let go above.
        Err(Error::Verification { .. }) if matches!(kept, Kept::Reached(_)) => {
            let client = live.expect("schema/ is kept only against a live database");
            (current, _) = live_catalog(client, cfg.database_url.as_ref(), cfg.manage).await?;
            kept.make_current(shadow, &mut current, cfg.manage).await?;
            verify::verify(shadow, kept, &current, &chain, cfg.manage).await?
        }
        result => result?,
    };
    drop(chain);
    // The shadow's lock table is large; the target's may not hold what a transaction takes.
    let (lock_table, on) = match live {
        Some(client) => (introspect::lock_table(client).await?, "the target"),
        None => (plan::LockTable::DEFAULT, "a server with PostgreSQL's default settings"),
    };
    for (m, measured) in migrations.iter().zip(&measured) {
        for (kind, locks) in [("up", measured.up_locks), ("down", measured.down_locks)] {
            let file = format!("{}.{kind}.sql", m.id);
            notes.extend(plan::lock_table_note(&file, locks, lock_table, on));
        }
    }
    // What the shadow measured replaces what was guessed; the files say it.
    for (m, measured) in migrations.iter_mut().zip(&measured) {
        m.up = std::mem::take(&mut m.up).with_measured_rewrites(&measured.rewritten);
        let title = format!("{} (up)", m.id);
        m.up_sql = match m.contract {
            true => render::contract_file(&title, &m.up, &cfg.timeouts),
            false => render::migration_file(&title, &m.up, &cfg.timeouts),
        };
    }
    let measured = migrations.iter().flat_map(|m| &m.up.steps);
    plan::refuse_unallowed(measured, &req.allow_hazards, render::step_head)?;

    if !req.dry_run {
        let mut all = existing.to_vec();
        for m in &mut migrations {
            let description = m.id.split_once('_').map_or("", |(_, d)| d).to_string();
            let written = migrations::write_new(
                &cfg.migrations_dir,
                &all,
                &description,
                &m.up_sql,
                &m.down_sql,
            )?;
            all.push(written.clone());
            m.written = Some(written);
        }
    }
    Ok(PlanOutcome { migrations, notes })
}

/// The current state and the desired one, built at the same time, either perhaps kept in the
/// shadow; when either fails, nothing is kept.
async fn both<K: Into<Prepared>>(
    shadow: &Shadow,
    current: impl std::future::Future<Output = Result<(State, Option<K>)>>,
    desired: impl std::future::Future<Output = Result<(State, Option<K>)>>,
) -> Result<((State, Option<K>), (State, Option<K>))> {
    match tokio::join!(current, desired) {
        (Ok(current), Ok(desired)) => Ok((current, desired)),
        (current, desired) => {
            let mut error = None;
            for side in [current, desired] {
                match side {
                    Ok((_, Some(kept))) => {
                        let _ = shadow.discard(kept.into()).await;
                    }
                    Ok((_, None)) => {}
                    Err(e) => error = error.or(Some(e)),
                }
            }
            Err(error.expect("one side failed"))
        }
    }
}

/// The catalog of a database, a schema directory or a migrations directory, as `plan` reads
/// each (for `inspect`); a directory is loaded or replayed in a shadow.
pub async fn inspect(config: &Config, side: &endpoint::Endpoint) -> Result<Catalog> {
    let (mut catalog, _) = match side {
        endpoint::Endpoint::Database(info) => {
            let client = connect::connect_info(info).await?;
            state_of_database(&client).await?
        }
        _ => state_of(&Shadow::start(config.dev_url.as_ref())?, side, None).await?,
    };
    catalog.restrict_to(config.manage);
    Ok(catalog)
}

/// A state read where it is: a database's catalog (on `client`), or a directory's, loaded or
/// replayed in a scratch database of the shadow.
async fn state_of(
    shadow: &Shadow,
    side: &endpoint::Endpoint,
    client: Option<&tokio_postgres::Client>,
) -> Result<State> {
    use endpoint::Endpoint;
    match (side, client) {
        (_, Some(c)) => state_of_database(c).await,
        (Endpoint::Migrations(dir), None) => {
            let existing = migrations::read_checked(dir)?;
            shadow::in_scratch(shadow, "desired", |db| async move {
                shadow::replay(&db.client, &existing).await?;
                Ok((db.catalog().await?, introspect::unmanaged(&db.client).await?))
            })
            .await
        }
        (Endpoint::Schema(dir), None) => loaded(shadow, source::load_schema_dir(dir)?, "").await,
        (Endpoint::Database(info), None) => {
            state_of_database(&connect::connect_info(info).await?).await
        }
    }
}

async fn state_of_database(client: &tokio_postgres::Client) -> Result<State> {
    Ok((introspect::introspect(client).await?, introspect::unmanaged(client).await?))
}

/// A live database's state, rebuilt in the shadow from its catalog and kept there.
/// `info` says how to open more sessions to it, to read a large catalog on several at once.
#[tracing::instrument(skip_all)]
async fn live_state(
    shadow: &Shadow,
    client: &tokio_postgres::Client,
    info: Option<&connect::ConnInfo>,
    manage: catalog::Manage,
) -> Result<(State, Prepared)> {
    let (mut current, unmanaged) = live_catalog(client, info, manage).await?;
    let state = verify::rebuilt(shadow, &mut current, manage).await?;
    Ok(((current, unmanaged), state))
}

/// A live database's state, read from its catalog.
#[tracing::instrument(skip_all)]
async fn live_catalog(
    client: &tokio_postgres::Client,
    info: Option<&connect::ConnInfo>,
    manage: catalog::Manage,
) -> Result<State> {
    let mut current = match info {
        Some(info) => {
            introspect::introspect_parallel(client, || connect::connect_info(info)).await?
        }
        None => introspect::introspect(client).await?,
    };
    current.restrict_to(manage);
    Ok((current, introspect::unmanaged(client).await?))
}

/// The state `generated/` replays to, kept in the shadow.
#[tracing::instrument(skip_all)]
async fn replayed(shadow: &Shadow, existing: &[Migration]) -> Result<(State, Prepared)> {
    shadow
        .prepare("current", |db| async move {
            shadow::replay(&db.client, existing).await?;
            let catalog = db.catalog().await?;
            Ok((catalog, introspect::unmanaged(&db.client).await?))
        })
        .await
}

/// The state a schema directory describes, loaded into a database of the shadow that is kept
/// (named for `purpose`).
#[tracing::instrument(skip_all)]
async fn loaded_kept(
    shadow: &Shadow,
    purpose: &str,
    statements: Vec<source::Statement>,
) -> Result<(State, Prepared)> {
    shadow
        .prepare(purpose, |db| async move {
            shadow::load_statements(&db.client, &statements).await?;
            drop(statements);
            Ok((db.catalog().await?, introspect::unmanaged(&db.client).await?))
        })
        .await
}

/// The state `schema/` describes, loaded into a scratch database, with `extra` (what a
/// rename's expand phase keeps, rendered) run after it.
#[tracing::instrument(skip_all)]
async fn loaded(shadow: &Shadow, statements: Vec<source::Statement>, extra: &str) -> Result<State> {
    shadow::in_scratch(shadow, "desired", |db| async move {
        shadow::load_statements(&db.client, &statements).await?;
        drop(statements);
        if !extra.is_empty() {
            apply::run_sql_file(&db.client, extra, Path::new("<expand phase>")).await?;
        }
        Ok((db.catalog().await?, introspect::unmanaged(&db.client).await?))
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

/// `schemadiff rebase`: after a merge, takes this branch's new migrations (the files `onto`
/// lacks) out of the migrations folder and plans again from the ones merged first to the
/// merged `schema/`. Returns the migrations taken out and the new plan; when planning fails,
/// the folder is put back as it was.
pub async fn rebase(req: &PlanRequest, onto: &str) -> Result<(Vec<String>, PlanOutcome)> {
    let dir = &req.config.migrations_dir;
    let moved = migrations::rebase_files(dir, onto)?;
    let mut again = req.clone();
    // Planned from the folder, never from a database that may have run the old files.
    again.config.database_url = None;
    if again.name.is_none() && moved.ids.len() == 1 {
        again.name = moved.ids[0].split_once('_').map(|(_, name)| name.to_string());
    }
    match plan(&again).await {
        Ok(outcome) if !req.dry_run => Ok((moved.ids, outcome)),
        Ok(outcome) => {
            moved.restore(dir)?;
            Ok((moved.ids, outcome))
        }
        Err(e) => {
            moved.restore(dir)?;
            Err(e)
        }
    }
}

/// How a live database differs from what its applied migrations produce: someone changed
/// it by hand.
#[derive(Debug)]
pub struct Drift {
    /// The differing facts: `-` what the database has and the migrations do not make, `+`
    /// what they make and it lacks.
    pub facts: String,
    /// The statements that would bring the database back to its migrations.
    pub sql: Vec<String>,
}

/// Replays the migrations `client`'s database has applied into a shadow and compares: None
/// when the database is what they produce. The tables in `leave_out` are not compared.
pub async fn drift(
    config: &Config,
    client: &tokio_postgres::Client,
    applied: &[Migration],
    leave_out: &[catalog::QualifiedName],
) -> Result<Option<Drift>> {
    // Catalog text is the server's own: compared across versions, equal states could differ.
    let (shadow, _) = Shadow::start_for(config.dev_url.as_ref(), client).await?;
    let ((mut expected, _), state) = replayed(&shadow, applied).await?;
    shadow.discard(state).await?;
    let mut live = introspect::introspect(client).await?;
    leave_out.iter().for_each(|t| live.forget_table(t));
    expected.restrict_to(config.manage);
    live.restrict_to(config.manage);
    if live == expected {
        return Ok(None);
    }
    let back = plan::plan(&live, &expected)?;
    Ok(Some(Drift {
        facts: residual(&live, &expected),
        sql: back.steps.iter().flat_map(render::step_sql).collect(),
    }))
}

/// Why `generated/` is out of step with `schema/`, or the notes worth showing when they agree.
#[tracing::instrument(skip_all)]
pub async fn check(config: &Config) -> Result<Vec<String>> {
    // As `plan`'s: inputs found in sync before need nothing parsed.
    let sync_key = cache::sync_key(config);
    if let Some(in_sync) = sync_key.as_deref().and_then(cache::known_in_sync) {
        return Ok(ignored_note(&config.schema_dir).into_iter().chain(in_sync.data_note).collect());
    }
    let statements = source::load_schema_dir(&config.schema_dir)?;
    let data_note = source::data_note(&statements, config.refuse_data)?;
    let existing = migrations::read_checked(&config.migrations_dir)?;
    let notes = ignored_note(&config.schema_dir).into_iter().chain(data_note.clone()).collect();
    let shadow = Shadow::start(config.dev_url.as_ref())?;
    let states = SideBySide::default();
    let read = &states;
    let current = shadow::in_scratch(&shadow, "current", move |db| {
        read.replayed(Side::Current, db, existing)
    });
    let desired = shadow::in_scratch(&shadow, "desired", move |db| {
        read.loaded(Side::Desired, db, statements)
    });
    let (current, desired) = tokio::join!(current, desired);
    current.and(desired)?;
    let ((mut current, current_unmanaged), (mut desired, desired_unmanaged)) = states.into_states();
    current.restrict_to(config.manage);
    desired.restrict_to(config.manage);
    diff::refuse_unmanaged(config, &current_unmanaged, &desired_unmanaged)?;
    let pending = plan::plan(&current, &desired)?;
    if pending.is_empty() {
        if let Some(key) = &sync_key {
            cache::remember_in_sync(key, data_note.as_deref());
        }
        return Ok(notes);
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
            "no database given: pass --database-url or set DATABASE_URL (a URL or key=value string; the PG* variables and ~/.pgpass fill in what it leaves out)"
                .into(),
        ));
    };
    connect::connect_info(url).await
}
