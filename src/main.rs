//! The `schemadiff` command line: parses arguments, calls the library, prints.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use schemadiff::config::{Config, Flags};
use schemadiff::endpoint::Endpoint;
use schemadiff::plan::HazardCode;
use schemadiff::render::Layout;
use schemadiff::{Error, PlanRequest, apply, migrations};
use serde_json::json;

mod fleet_report;
mod inspect_report;
mod out;
mod plan_report;
use out::{Format, Out};

#[derive(Parser)]
#[command(name = "schemadiff", version, about = "Declarative schema migrations for PostgreSQL")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// `json` prints one JSON document on standard output with what the text says;
    /// `markdown` (for `plan`) what a pull-request comment should show.
    #[arg(long, global = true, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args, Clone)]
struct Common {
    /// The database to plan against or migrate (also DATABASE_URL). `apply` and `status`
    /// take it more than once: a fleet of databases.
    #[arg(long)]
    database_url: Vec<String>,
    /// A server where scratch databases may be created (also SCHEMADIFF_DEV_URL); without it
    /// an ephemeral local cluster is started.
    #[arg(long)]
    dev_url: Option<String>,
    /// The desired schema: a directory of .sql files, or one file.
    #[arg(long)]
    schema_dir: Option<PathBuf>,
    /// Where migrations are written and read.
    #[arg(long)]
    migrations_dir: Option<PathBuf>,
}

/// Many databases migrated from one folder (a database per tenant or shard).
#[derive(Args, Clone)]
struct Fleet {
    /// A file of connection strings, one database per line (`#` starts a comment), as well
    /// as or instead of repeated --database-url.
    #[arg(long)]
    targets: Option<PathBuf>,
    /// How many databases of a fleet are worked on at once (each takes three sessions).
    #[arg(long, default_value_t = 4)]
    parallel: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Write the next migration: from the current state to schema/.
    Plan {
        #[command(flatten)]
        common: Common,
        /// The description in the file name (derived from the changes when not given).
        #[arg(long)]
        name: Option<String>,
        /// Hazard codes to accept, comma separated (DELETES_DATA, TABLE_REWRITE).
        #[arg(long, value_delimiter = ',')]
        allow_hazards: Vec<String>,
        /// Show and verify the plan, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply every pending migration to the database.
    Apply {
        #[command(flatten)]
        common: Common,
        /// Run rename contract migrations too (they drop what code from before the rename
        /// still uses); without it `apply` stops before the first one.
        #[arg(long)]
        contract: bool,
        /// Print the SQL that would run, and run nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        fleet: Fleet,
        /// In a fleet, go on with the other databases after one fails (without it, no
        /// database is started after the first failure).
        #[arg(long)]
        keep_going: bool,
    },
    /// Revert the last N applied migrations (default 1).
    Down {
        #[command(flatten)]
        common: Common,
        #[arg(default_value_t = 1)]
        count: usize,
        /// Hazard codes to accept: DELETES_DATA lets down drop tables and columns that hold
        /// data (without it, down stops before such a step and says what it holds).
        #[arg(long, value_delimiter = ',')]
        allow_hazards: Vec<String>,
        /// Print the SQL that would run, and run nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// After a merge: move this branch's new migrations after the ones merged first, and
    /// plan them again from the merged schema/.
    Rebase {
        #[command(flatten)]
        common: Common,
        /// The branch merged first (a git revision): its migrations stay as they are.
        #[arg(long, default_value = "main")]
        onto: String,
        /// Hazard codes to accept, comma separated (DELETES_DATA, TABLE_REWRITE).
        #[arg(long, value_delimiter = ',')]
        allow_hazards: Vec<String>,
        /// Show and verify the new plan, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Record an existing database as being at VERSION (default: the last migration) without
    /// running anything; reports the migration tables of other tools it finds.
    Baseline {
        #[command(flatten)]
        common: Common,
        version: Option<u32>,
        /// Record it without first checking that the database is what the migrations up to
        /// VERSION make.
        #[arg(long)]
        no_verify: bool,
    },
    /// Show which migrations the database has applied.
    Status {
        #[command(flatten)]
        common: Common,
        /// Skip comparing the database with what its applied migrations make (which needs a
        /// shadow: --dev-url, or local PostgreSQL binaries).
        #[arg(long)]
        no_drift: bool,
        #[command(flatten)]
        fleet: Fleet,
    },
    /// Fail when generated/ is not in sync with schema/ or schemadiff.sum (the CI gate).
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Bring a hand-written migration folder under schemadiff: replay its up steps in a
    /// shadow, write schema/ and a baseline migration to where the database stands (its
    /// tracking table says; steps after it get a migration of their own), ready for
    /// `schemadiff baseline`.
    Import {
        /// The folder: numbered or dated files with their down or rollback files, Flyway's
        /// V1__x.sql, Diesel's up.sql/down.sql directories, files with both directions behind
        /// markers, in applied/ and pending/ folders or not.
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
        /// A file per table, view, type and routine, as `pull --split` writes them.
        #[arg(long)]
        split: bool,
        /// Replace the .sql files the schema directory already holds.
        #[arg(long)]
        force: bool,
    },
    /// Describe every schema, table, column, index, constraint, view, routine and dependency:
    /// `--format json` a schema map, `markdown` a page with an ER diagram, `mermaid` the
    /// diagram. SOURCE is a database, a schema directory or a migrations directory (default:
    /// the database configured, else the schema directory).
    Inspect {
        source: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Print the migration from one state to another without writing files. Each of FROM
    /// and TO is a database (a connection string), a schema directory or .sql file, or a
    /// migrations directory; the migration is verified as `plan` verifies it.
    Diff {
        from: String,
        to: String,
        /// A server where scratch databases may be created (also SCHEMADIFF_DEV_URL).
        #[arg(long)]
        dev_url: Option<String>,
    },
    /// Write schema/ from a live database: the DDL that makes it, a file per schema, checked
    /// to load and read back as the database before anything is written.
    Pull {
        #[command(flatten)]
        common: Common,
        /// A file per table, view, type and routine (`schema/<schema>/<name>.sql`), with the
        /// indexes, constraints, triggers and comments that belong to it.
        #[arg(long)]
        split: bool,
        /// Replace the .sql files the schema directory already holds.
        #[arg(long)]
        force: bool,
    },
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Down { .. } => "down",
            Command::Rebase { .. } => "rebase",
            Command::Baseline { .. } => "baseline",
            Command::Status { .. } => "status",
            Command::Check { .. } => "check",
            Command::Pull { .. } => "pull",
            Command::Diff { .. } => "diff",
            Command::Inspect { .. } => "inspect",
            Command::Import { .. } => "import",
        }
    }
}

/// The databases of a fleet, when more than one is named or a targets file is given; the
/// configuration is then resolved without a single database.
fn fleet(common: &mut Common, fleet: &Fleet) -> Result<Option<Vec<apply::fleet::Target>>, Error> {
    if common.database_url.len() < 2 && fleet.targets.is_none() {
        return Ok(None);
    }
    let urls = std::mem::take(&mut common.database_url);
    apply::fleet::targets(&urls, fleet.targets.as_deref()).map(Some)
}

fn config(common: Common) -> Result<Config, Error> {
    if common.database_url.len() > 1 {
        return Err(Error::Usage(format!(
            "--database-url is given {} times: only `apply` and `status` take several (a fleet)",
            common.database_url.len()
        )));
    }
    let flags = Flags {
        database_url: common.database_url.into_iter().next(),
        dev_url: common.dev_url,
        schema_dir: common.schema_dir,
        migrations_dir: common.migrations_dir,
    };
    Config::resolve(flags, std::path::Path::new("schemadiff.toml"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    log_to_stderr();
    // Ctrl-C (or a TERM) asks the server to cancel what runs and the run to stop at its next
    // statement, then waits for the run to say what committed; its ephemeral cluster goes
    // with it. The handlers are installed before the command starts: a signal that came
    // before would kill the process and leave the cluster behind.
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        eprintln!("error: cannot install signal handlers");
        return ExitCode::FAILURE;
    };
    let only = match cli.format {
        Format::Markdown => Some("`plan`, `diff` and `inspect`"),
        Format::Mermaid => Some("`inspect`"),
        _ => None,
    };
    let takes = match cli.format {
        Format::Markdown => {
            matches!(
                cli.command,
                Command::Plan { .. } | Command::Diff { .. } | Command::Inspect { .. }
            )
        }
        Format::Mermaid => matches!(cli.command, Command::Inspect { .. }),
        _ => true,
    };
    if let (Some(only), false) = (only, takes) {
        let format = if cli.format == Format::Markdown { "markdown" } else { "mermaid" };
        eprintln!(
            "error: --format {format} is for {only}; {} prints text or json",
            cli.command.name()
        );
        return ExitCode::from(2);
    }
    let mut out = Out::new(cli.format, cli.command.name());
    let (result, signalled) = {
        let run = run(cli.command, &mut out);
        tokio::pin!(run);
        let signalled = tokio::select! {
            biased;
            _ = interrupt.recv() => Err(("interrupted", 130u8)),
            _ = terminate.recv() => Err(("terminated", 143u8)),
            r = &mut run => Ok(r),
        };
        match signalled {
            Ok(r) => (r, None),
            Err((what, code)) => {
                eprintln!(
                    "{what}: cancelling what runs on the server; the run stops at its next statement"
                );
                schemadiff::interrupt::request().await;
                let stopped = tokio::select! {
                    r = &mut run => Some(r),
                    _ = interrupt.recv() => None,
                    _ = terminate.recv() => None,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => None,
                };
                match stopped {
                    Some(Ok(())) => eprintln!("{what}: the run had finished"),
                    Some(Err(_)) => eprintln!(
                        "{what}: nothing of it runs on the server now; what it was running was rolled back, \
                         and what was committed is recorded (a plan writes nothing it did not verify)"
                    ),
                    None => eprintln!("{what}: exiting without waiting for the run to stop"),
                }
                (stopped.unwrap_or(Ok(())), Some((what, code)))
            }
        }
    };
    let code = match (&result, signalled) {
        (_, Some((_, code))) => code,
        (Ok(()), None) => 0,
        (Err(e), None) => e.exit_code() as u8,
    };
    out.finish(result.as_ref().err().map(|e| (e, code)), signalled.map(|(what, _)| what));
    ExitCode::from(code)
}

/// The hazard codes asked for. An unknown code allows nothing, so the plan still stops at
/// the hazard it meant; a warning names it (a tool that copies every code-like word of a
/// refusal, SQL included, may pass one).
fn allowed_hazards(codes: &[String], out: &mut Out) -> BTreeSet<HazardCode> {
    let mut allowed = BTreeSet::new();
    for code in codes {
        match HazardCode::parse(code) {
            Some(hazard) => {
                allowed.insert(hazard);
            }
            None => {
                let known: Vec<&str> = HazardCode::ALL.iter().map(|h| h.as_str()).collect();
                out.warn(format!(
                    "unknown hazard code {code:?} allows nothing; known codes: {}",
                    known.join(", ")
                ));
            }
        }
    }
    allowed
}

/// What a plan did, as a reviewer reads it: each step with its hazards, then the files.
fn print_plan(req: &PlanRequest, outcome: &schemadiff::PlanOutcome, out: &mut Out) {
    for note in &outcome.notes {
        out.note(note);
    }
    out.set_with("migrations", || {
        json!(outcome.migrations.iter().map(|m| plan_json(m, req)).collect::<Vec<_>>())
    });
    out.set("dry_run", json!(req.dry_run));
    if out.markdown() {
        let schema = req.config.schema_dir.display().to_string();
        print!("{}", plan_report::markdown("plan", &schema, req.dry_run, outcome));
        return;
    }
    if outcome.is_empty() {
        out.say(format!("No changes: the schema matches {}.", req.config.schema_dir.display()));
        return;
    }
    for m in &outcome.migrations {
        let kind = if m.contract { ", the contract: apply --contract runs it" } else { "" };
        out.say(format!("Plan {} ({} steps{kind}):", m.id, m.up.steps.len()));
        for step in &m.up.steps {
            for h in &step.hazards {
                out.say(format!("  -- hazard {}: {}", h.code, h.reason));
            }
            if let Some(lock) =
                schemadiff::plan::lock_of(&step.change).filter(|_| !step.hazards.is_empty())
            {
                out.say(format!("  -- takes {lock}"));
            }
            for stmt in schemadiff::render::step_sql(step) {
                out.say(format!("  {}", stmt.replace('\n', "\n  ")));
            }
        }
    }
    out.say(
        "Verified in a shadow database: up reaches the schema, down returns to the current state.",
    );
    if req.dry_run {
        out.say("Dry run: nothing written.");
        return;
    }
    for m in outcome.migrations.iter().filter_map(|m| m.written.as_ref()) {
        out.say(format!("Wrote {}", m.up_path.display()));
        if let Some(d) = &m.down_path {
            out.say(format!("Wrote {}", d.display()));
        }
    }
    out.say(format!("Updated {}", req.config.migrations_dir.join(migrations::SUM_FILE).display()));
}

/// One migration `diff` found, for `--format json`: its steps, up and down.
fn diff_json(m: &schemadiff::PlannedMigration) -> serde_json::Value {
    json!({
        "id": m.id,
        "contract": m.contract,
        "steps": steps_json(&m.up),
        "up_sql": m.up_sql,
        "down_sql": m.down_sql,
    })
}

/// Migrations run, with their milliseconds, for `--format json`.
fn run_json(done: &[(String, i64)]) -> serde_json::Value {
    json!(done.iter().map(|(id, ms)| json!({"id": id, "ms": ms})).collect::<Vec<_>>())
}

/// What a dry run would run, for `--format json`.
fn would_json(would_run: &[(String, String)]) -> serde_json::Value {
    json!(would_run.iter().map(|(id, sql)| json!({"id": id, "sql": sql})).collect::<Vec<_>>())
}

/// One planned migration for `--format json`: its steps with their SQL, hazards and locks,
/// and the files written.
fn plan_json(m: &schemadiff::PlannedMigration, req: &PlanRequest) -> serde_json::Value {
    let steps = steps_json(&m.up);
    let written = m.written.as_ref().filter(|_| !req.dry_run);
    json!({
        "id": m.id,
        "contract": m.contract,
        "steps": steps,
        "up_sql": m.up_sql,
        "down_sql": m.down_sql,
        "up_path": written.map(|w| w.up_path.display().to_string()),
        "down_path": written.and_then(|w| w.down_path.as_ref()).map(|p| p.display().to_string()),
    })
}

/// A plan's steps with their SQL, hazards and locks, for `--format json`.
fn steps_json(plan: &schemadiff::plan::Plan) -> serde_json::Value {
    json!((plan.steps.iter())
        .map(|step| {
            json!({
                "sql": schemadiff::render::step_sql(step),
                "hazards": step.hazards.iter().map(|h| json!({"code": h.code.to_string(), "reason": h.reason})).collect::<Vec<_>>(),
                "lock": schemadiff::plan::lock_of(&step.change).map(|l| l.to_string()),
            })
        })
        .collect::<Vec<_>>())
}

/// A spinner on standard error while `apply` or `down` runs, naming the migration and its
/// committed parts; nothing when the output is JSON or not a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    verb: &'static str,
    current: std::sync::Mutex<String>,
}

impl Progress {
    fn new(out: &Out, verb: &'static str) -> Progress {
        let bar = out.progress().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress { bar, verb, current: std::sync::Mutex::new(String::new()) }
    }

    fn tell(&self, event: apply::Event<'_>) {
        let Some(bar) = &self.bar else { return };
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            apply::Event::Started(id) => {
                *current = id.to_string();
                bar.set_message(format!("{} {id}", self.verb));
            }
            apply::Event::Part { done, total } => bar
                .set_message(format!("{} {current}: {done} of {total} parts committed", self.verb)),
            apply::Event::Finished(_) => bar.set_message(String::new()),
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The sessions `apply` and `down` run through: the migration, one that holds the lock and
/// one that watches what the first waits for.
fn run_session<'a>(
    cfg: &Config,
    client: &'a tokio_postgres::Client,
    lock_session: &'a tokio_postgres::Client,
    watcher: &'a tokio_postgres::Client,
) -> apply::Session<'a> {
    apply::Session {
        client,
        lock_session: Some(lock_session),
        watcher: Some(watcher),
        waits: cfg.waits.clone(),
        on_wait: Some(&say_wait),
        history: cfg.history_table.clone(),
        on_event: None,
    }
}

fn say_wait(message: &str) {
    eprintln!("{message}");
}

async fn run(command: Command, out: &mut Out) -> Result<(), Error> {
    match command {
        Command::Plan { common, name, allow_hazards, dry_run } => {
            let allow_hazards = allowed_hazards(&allow_hazards, out);
            let req = PlanRequest { config: config(common)?, name, allow_hazards, dry_run };
            let outcome = schemadiff::plan(&req).await?;
            print_plan(&req, &outcome, out);
            Ok(())
        }
        Command::Rebase { common, onto, allow_hazards, dry_run } => {
            let allow_hazards = allowed_hazards(&allow_hazards, out);
            let req = PlanRequest { config: config(common)?, name: None, allow_hazards, dry_run };
            let (moved, outcome) = schemadiff::rebase(&req, &onto).await?;
            out.set("taken_out", json!(moved));
            out.say(format!(
                "{} {} (not on {onto}); planning again after the migrations from {onto}.",
                if dry_run { "Would take out" } else { "Took out" },
                moved.join(", ")
            ));
            print_plan(&req, &outcome, out);
            if !dry_run {
                out.say(format!(
                    "Next: `git add {}` and commit the merge.",
                    req.config.migrations_dir.display()
                ));
            }
            Ok(())
        }
        Command::Apply { mut common, contract, dry_run, fleet: many, keep_going } => {
            if let Some(targets) = fleet(&mut common, &many)? {
                let cfg = config(common)?;
                let all = migrations::read_checked(&cfg.migrations_dir)?;
                let settings = apply::fleet::Settings {
                    parallel: many.parallel,
                    keep_going,
                    contracts: apply::Contracts {
                        run: contract,
                        after: cfg.contract_after.clone(),
                        dry_run,
                    },
                    waits: cfg.waits.clone(),
                    history: cfg.history_table.clone(),
                };
                let progress = fleet_report::FleetProgress::new(out, targets.len());
                let tell = |event: apply::fleet::FleetEvent<'_>| progress.tell(event);
                let runs = apply::fleet::apply(&targets, &all, &settings, &tell).await;
                progress.done();
                return fleet_report::apply_summary(&runs, out);
            }
            let cfg = config(common)?;
            let all = migrations::read_checked(&cfg.migrations_dir)?;
            let client = schemadiff::connect_target(&cfg).await?;
            let contracts =
                apply::Contracts { run: contract, after: cfg.contract_after.clone(), dry_run };
            let (lock_session, watcher) =
                (schemadiff::connect_target(&cfg).await?, schemadiff::connect_target(&cfg).await?);
            let mut session = run_session(&cfg, &client, &lock_session, &watcher);
            let progress = Progress::new(out, "applying");
            let tell = |event: apply::Event<'_>| progress.tell(event);
            session.on_event = Some(&tell);
            let report = apply::apply_with(&session, &all, &contracts).await;
            progress.done();
            let report = report?;
            out.set("applied", run_json(&report.done));
            out.set("would_run", would_json(&report.would_run));
            out.set("waiting_contract", json!(report.waiting));
            for (id, sql) in &report.would_run {
                out.say(format!("-- would apply {id}\n{sql}"));
            }
            let nothing =
                if dry_run { report.would_run.is_empty() } else { report.done.is_empty() };
            if nothing && report.waiting.is_none() {
                out.say("Nothing to apply: the database is up to date.");
            }
            for (id, ms) in &report.done {
                out.say(format!("Applied {id} ({ms} ms)"));
            }
            if let Some(id) = &report.waiting {
                out.say(format!(
                    "Waiting: {id} is a rename's contract; it drops what code from before the rename still uses. \
                     Once no such code runs, apply it with `schemadiff apply --contract`{}.",
                    match &cfg.contract_after {
                        Some(after) => format!(" (or it runs by itself {after} after its expand)"),
                        None => String::new(),
                    }
                ));
            }
            Ok(())
        }
        Command::Down { common, count, allow_hazards, dry_run } => {
            let cfg = config(common)?;
            let all = migrations::read_checked(&cfg.migrations_dir)?;
            let client = schemadiff::connect_target(&cfg).await?;
            let allow_deleting_data =
                allowed_hazards(&allow_hazards, out).contains(&HazardCode::DeletesData);
            let options = apply::DownOptions { dry_run, allow_deleting_data };
            let (lock_session, watcher) =
                (schemadiff::connect_target(&cfg).await?, schemadiff::connect_target(&cfg).await?);
            let mut session = run_session(&cfg, &client, &lock_session, &watcher);
            let progress = Progress::new(out, "reverting");
            let tell = |event: apply::Event<'_>| progress.tell(event);
            session.on_event = Some(&tell);
            let report = apply::down_with(&session, &all, count, &options).await;
            progress.done();
            let report = report?;
            out.set("reverted", run_json(&report.done));
            out.set("would_run", would_json(&report.would_run));
            for note in &report.notes {
                out.note(note);
            }
            for (id, sql) in &report.would_run {
                out.say(format!("-- would revert {id}\n{sql}"));
            }
            for (id, ms) in &report.done {
                out.say(format!("Reverted {id} ({ms} ms)"));
            }
            Ok(())
        }
        Command::Status { mut common, no_drift, fleet: many } => {
            if let Some(targets) = fleet(&mut common, &many)? {
                let cfg = config(common)?;
                let all = migrations::read_dir(&cfg.migrations_dir)?;
                let statuses =
                    apply::fleet::status(&targets, &all, &cfg.history_table, many.parallel).await;
                return fleet_report::status_report(&statuses, out);
            }
            let cfg = config(common)?;
            // Read as it is, mistakes and all: status reports, it does not refuse.
            let all = migrations::read_dir(&cfg.migrations_dir)?;
            let client = schemadiff::connect_target(&cfg).await?;
            let history = apply::history(&client, &cfg.history_table).await?;
            let states = apply::states(&all, &history);
            if states.is_empty() {
                out.say(format!("No migrations in {}.", cfg.migrations_dir.display()));
            }
            let mut troubles = Vec::new();
            for (version, id, state) in &states {
                let row = history.get(version);
                let when = row
                    .map(|h| format!("  {} ({} ms)", h.applied_at, h.execution_ms))
                    .unwrap_or_default();
                let label = match state {
                    apply::State::Pending
                        if all.iter().any(|m| m.version == *version && m.is_contract()) =>
                    {
                        "pending contract: waits for `apply --contract`".to_string()
                    }
                    apply::State::Pending => "pending".to_string(),
                    apply::State::Applied => format!("applied{when}"),
                    apply::State::Failed(msg) => {
                        troubles.push(format!("{id} failed"));
                        format!("FAILED{when}: {}", msg.lines().next().unwrap_or(""))
                    }
                    apply::State::RolledBack => match row.and_then(|h| h.rolled_back_at.as_ref()) {
                        Some(at) => format!("rolled back  {at}"),
                        None => "rolled back".to_string(),
                    },
                    apply::State::Partial(n) => format!(
                        "partly applied{when}: {n} part(s) committed; `schemadiff apply` resumes after them"
                    ),
                    apply::State::Modified => {
                        troubles.push(format!("{id} changed after it was applied"));
                        format!("applied{when}, but the file changed since")
                    }
                    apply::State::Missing => {
                        troubles.push(format!("{id}'s file is missing"));
                        format!("applied{when}, but the file is missing")
                    }
                };
                out.say(format!("{id}  {label}"));
                let (state_name, error) = match state {
                    apply::State::Pending => ("pending", None),
                    apply::State::Applied => ("applied", None),
                    apply::State::Failed(msg) => ("failed", Some(msg.clone())),
                    apply::State::Partial(_) => ("partial", None),
                    apply::State::RolledBack => ("rolled_back", None),
                    apply::State::Modified => ("modified", None),
                    apply::State::Missing => ("missing", None),
                };
                out.push(
                    "migrations",
                    json!({
                        "version": version,
                        "id": id,
                        "state": state_name,
                        "error": error,
                        "parts_done": row.map(|h| h.groups_done),
                        "applied_at": row.map(|h| h.applied_at.clone()),
                        "execution_ms": row.map(|h| h.execution_ms),
                        "rolled_back_at": row.and_then(|h| h.rolled_back_at.clone()),
                    }),
                );
            }
            if !no_drift {
                let applied: Vec<migrations::Migration> = (all.iter())
                    .filter(|m| {
                        states
                            .iter()
                            .any(|(v, _, s)| *v == m.version && *s == apply::State::Applied)
                    })
                    .cloned()
                    .collect();
                let unsure = states.iter().any(|(_, _, s)| {
                    matches!(
                        s,
                        apply::State::Partial(_) | apply::State::Modified | apply::State::Missing
                    )
                });
                if applied.is_empty() {
                    // Nothing is under schemadiff yet: there is no state to drift from.
                    out.say(
                        "Drift not checked: no migration is applied yet (`schemadiff baseline` records an existing database).",
                    );
                } else if unsure {
                    out.say(
                        "Drift not checked: the applied migrations above are not all whole and present."
                    );
                } else {
                    match schemadiff::drift(&cfg, &client, &applied, &[]).await {
                        Ok(None) => {
                            out.set("drift", json!(null));
                            out.say("No drift: the database is what its applied migrations make.")
                        }
                        Ok(Some(drift)) => {
                            out.set("drift", json!({"facts": drift.facts.lines().map(str::trim).collect::<Vec<_>>(), "sql": drift.sql}));
                            troubles.push("the database drifted from its migrations".into());
                            out.say(format!(
                                "DRIFT: the database differs from what its applied migrations make (changed by hand?):\n{}\
                                 To bring it back (or put the change in schema/ and plan it):\n  {}",
                                drift.facts,
                                drift.sql.join("\n  ")
                            ));
                        }
                        Err(e) => {
                            out.set("drift_not_checked", json!(e.to_string()));
                            out.say(format!("Drift not checked: {e}"))
                        }
                    }
                }
            }
            match troubles.is_empty() {
                true => Ok(()),
                false => Err(Error::Migrations(format!("status: {}", troubles.join("; ")))),
            }
        }
        Command::Baseline { common, version, no_verify } => {
            let cfg = config(common)?;
            let all = migrations::read_checked(&cfg.migrations_dir)?;
            let Some(upto) = version.or(all.last().map(|m| m.version)) else {
                return Err(Error::Usage(format!(
                    "no migrations in {} to baseline: run `schemadiff plan` first (it writes the first one from schema/)",
                    cfg.migrations_dir.display()
                )));
            };
            if !all.iter().any(|m| m.version == upto) {
                return Err(Error::Usage(format!(
                    "baseline {upto}: {} has no migration {upto:03}",
                    cfg.migrations_dir.display()
                )));
            }
            let chosen: Vec<migrations::Migration> =
                all.iter().filter(|m| m.version <= upto).cloned().collect();
            let last = chosen.last().map(|m| m.id()).unwrap_or_default();
            let client = schemadiff::connect_target(&cfg).await?;
            let tracking = apply::tracking_tables(&client).await?;
            for t in &tracking {
                out.push(
                    "tracking_tables",
                    json!({"table": schemadiff::render::qualified(&t.table), "tool": t.tool, "applied": t.applied, "latest": t.latest}),
                );
                out.say(format!(
                    "Found {} ({}): {} migration(s) applied{}. Left as it is; drop it once {} no longer runs (a plan then proposes it).",
                    schemadiff::render::qualified(&t.table),
                    t.tool,
                    t.applied,
                    t.latest.as_ref().map(|v| format!(", the latest {v}")).unwrap_or_default(),
                    t.tool
                ));
            }
            if !no_verify {
                let theirs: Vec<_> = tracking.iter().map(|t| t.table.clone()).collect();
                match schemadiff::drift(&cfg, &client, &chosen, &theirs).await? {
                    None => out.say(format!(
                        "Verified: the database is what the migrations up to {last} make."
                    )),
                    Some(drift) => {
                        return Err(Error::Migrations(format!(
                            "the database is not at {last}: it differs from what the migrations up to it make:\n{}\
                             baseline records nothing. Bring the database there, baseline an earlier version, \
                             or pass --no-verify if you know better",
                            drift.facts
                        )));
                    }
                }
            }
            let (lock_session, watcher) =
                (schemadiff::connect_target(&cfg).await?, schemadiff::connect_target(&cfg).await?);
            let session = run_session(&cfg, &client, &lock_session, &watcher);
            apply::baseline(&session, &chosen).await?;
            out.set("recorded", json!(chosen.iter().map(|m| m.id()).collect::<Vec<_>>()));
            out.say(format!(
                "Recorded {} migration(s), up to {last}, as applied without running them; `schemadiff apply` runs what comes after.",
                chosen.len()
            ));
            Ok(())
        }
        Command::Import { dir, common, split, force } => {
            let config = config(common)?;
            let layout = if split { Layout::PerObject } else { Layout::PerSchema };
            let req = schemadiff::ImportRequest { config, dir, layout, force };
            let outcome = schemadiff::import(&req).await?;
            let applied = outcome.steps.len() - outcome.pending;
            out.set("steps", json!(outcome.steps.len()));
            out.set("pending", json!(outcome.pending));
            out.say(format!(
                "Replayed the {} up steps of {} in a shadow database ({} pending).",
                outcome.steps.len(),
                req.dir.display(),
                outcome.pending
            ));
            for path in &outcome.schema_files {
                out.say(format!("Wrote {}", path.display()));
            }
            out.set(
                "schema_files",
                json!(
                    outcome
                        .schema_files
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                ),
            );
            let mut ids = Vec::new();
            for m in &outcome.migrations {
                if let Some(w) = &m.written {
                    out.say(format!("Wrote {}", w.up_path.display()));
                    if let Some(d) = &w.down_path {
                        out.say(format!("Wrote {}", d.display()));
                    }
                }
                ids.push(m.id.clone());
            }
            out.set("migrations", json!(ids));
            let tracking: Vec<_> = (outcome.tracking.iter())
                .map(|t| json!({"table": t.table.to_string(), "tool": t.tool, "applied": t.applied, "latest": t.latest}))
                .collect();
            out.set("tracking_tables", json!(tracking));
            for t in &outcome.tracking {
                out.say(format!(
                    "The database has {}'s migration table {}: {} applied, the latest {}.",
                    t.tool,
                    t.table,
                    t.applied,
                    t.latest.as_deref().unwrap_or("none")
                ));
            }
            if req.config.database_url.is_some() {
                if outcome.tracking.is_empty() {
                    out.say("The database has no tracking table of another tool: every step counts as applied.");
                }
                out.say(format!(
                    "It stands at the baseline ({applied} steps applied): run `schemadiff baseline --database-url ... 1` to record it, then `schemadiff apply` runs what follows."
                ));
            } else {
                out.say("Next: `schemadiff baseline --database-url URL 1` on each database at the baseline.");
            }
            Ok(())
        }
        Command::Inspect { source, common } => {
            let config = config(common)?;
            let side = match (&source, &config.database_url) {
                (Some(arg), _) => Endpoint::parse(arg)?,
                (None, Some(info)) => Endpoint::Database(info.clone()),
                (None, None) => Endpoint::Schema(config.schema_dir.clone()),
            };
            let catalog = schemadiff::inspect(&config, &side).await?;
            out.set("source", json!(side.describe()));
            out.set_with("map", || inspect_report::json(&catalog));
            if out.mermaid() {
                print!("{}", inspect_report::mermaid(&catalog));
            } else if !out.json() {
                print!("{}", inspect_report::markdown(&catalog));
            }
            Ok(())
        }
        Command::Diff { from, to, dev_url } => {
            let flags = Flags { dev_url, ..Flags::default() };
            let config = Config::resolve(flags, std::path::Path::new("schemadiff.toml"))?;
            let (from, to) = (Endpoint::parse(&from)?, Endpoint::parse(&to)?);
            let req = schemadiff::DiffRequest { config, from, to };
            let outcome = schemadiff::diff(&req).await?;
            for note in &outcome.notes {
                out.note(note);
            }
            out.set("from", json!(req.from.describe()));
            out.set("to", json!(req.to.describe()));
            out.set_with("migrations", || {
                json!(outcome.migrations.iter().map(diff_json).collect::<Vec<_>>())
            });
            if out.markdown() {
                print!("{}", plan_report::markdown("diff", &req.to.describe(), true, &outcome));
            } else if outcome.is_empty() {
                out.say(format!(
                    "No changes: {} matches {}.",
                    req.from.describe(),
                    req.to.describe()
                ));
            } else {
                for m in &outcome.migrations {
                    out.say(&m.up_sql);
                }
            }
            Ok(())
        }
        Command::Pull { common, split, force } => {
            let config = config(common)?;
            let layout = if split { Layout::PerObject } else { Layout::PerSchema };
            let written =
                schemadiff::pull(&schemadiff::PullRequest { config, layout, force }).await?;
            for path in &written {
                out.say(format!("Wrote {}", path.display()));
            }
            out.set(
                "written",
                json!(written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()),
            );
            out.say("They load and read back as the database: planning against it finds nothing.");
            Ok(())
        }
        Command::Check { common } => {
            let cfg = config(common)?;
            for note in schemadiff::check(&cfg).await? {
                out.note(note);
            }
            out.set("in_sync", json!(true));
            out.say(format!(
                "{} is in sync with {}.",
                cfg.migrations_dir.display(),
                cfg.schema_dir.display()
            ));
            Ok(())
        }
    }
}

/// With `SCHEMADIFF_LOG` set (`info`, `debug`, or a filter such as `schemadiff::introspect=debug`),
/// each step a command takes is logged on standard error when it ends, with its time: where a
/// slow plan spends it.
fn log_to_stderr() {
    let Ok(filter) = std::env::var("SCHEMADIFF_LOG") else { return };
    let filter = match tracing_subscriber::EnvFilter::try_new(&filter) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("warning: SCHEMADIFF_LOG={filter} is not a filter ({e}); nothing is logged");
            return;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .init();
}
