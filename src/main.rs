//! The `schemadiff` command line: parses arguments, calls the library, prints.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use schemadiff::config::{Config, Flags};
use schemadiff::plan::HazardCode;
use schemadiff::{Error, PlanRequest, apply, migrations};

#[derive(Parser)]
#[command(name = "schemadiff", version, about = "Declarative schema migrations for PostgreSQL")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// The database to plan against or migrate (also DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
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
    },
    /// Fail when generated/ is not in sync with schema/ or schemadiff.sum (the CI gate).
    Check {
        #[command(flatten)]
        common: Common,
    },
}

fn config(common: Common) -> Result<Config, Error> {
    let flags = Flags {
        database_url: common.database_url,
        dev_url: common.dev_url,
        schema_dir: common.schema_dir,
        migrations_dir: common.migrations_dir,
    };
    Config::resolve(flags, std::path::Path::new("schemadiff.toml"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let run = run(cli.command);
    tokio::pin!(run);
    let signalled = tokio::select! {
        biased;
        _ = interrupt.recv() => ("interrupted", 130),
        _ = terminate.recv() => ("terminated", 143),
        r = &mut run => return exit(r),
    };
    let (what, code) = signalled;
    eprintln!("{what}: cancelling what runs on the server; the run stops at its next statement");
    schemadiff::interrupt::request().await;
    let stopped = tokio::select! {
        r = &mut run => Some(r),
        _ = interrupt.recv() => None,
        _ = terminate.recv() => None,
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => None,
    };
    match stopped {
        Some(Ok(())) => eprintln!("{what}: the run had finished"),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            eprintln!(
                "{what}: nothing of it runs on the server now; what it was running was rolled back, \
                 and what was committed is recorded (a plan writes nothing it did not verify)"
            );
        }
        None => eprintln!("{what}: exiting without waiting for the run to stop"),
    }
    ExitCode::from(code)
}

fn exit(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// The hazard codes asked for. An unknown code allows nothing, so the plan still stops at
/// the hazard it meant; a warning names it (a tool that copies every code-like word of a
/// refusal, SQL included, may pass one).
fn allowed_hazards(codes: &[String]) -> BTreeSet<HazardCode> {
    let mut allowed = BTreeSet::new();
    for code in codes {
        match HazardCode::parse(code) {
            Some(hazard) => {
                allowed.insert(hazard);
            }
            None => {
                let known: Vec<&str> = HazardCode::ALL.iter().map(|h| h.as_str()).collect();
                eprintln!(
                    "warning: unknown hazard code {code:?} allows nothing; known codes: {}",
                    known.join(", ")
                );
            }
        }
    }
    allowed
}

/// What a plan did, as a reviewer reads it: each step with its hazards, then the files.
fn print_plan(req: &PlanRequest, outcome: &schemadiff::PlanOutcome) {
    for note in &outcome.notes {
        eprintln!("note: {note}");
    }
    if outcome.is_empty() {
        println!("No changes: the schema matches {}.", req.config.schema_dir.display());
        return;
    }
    for m in &outcome.migrations {
        let kind = if m.contract { ", the contract: apply --contract runs it" } else { "" };
        println!("Plan {} ({} steps{kind}):", m.id, m.up.steps.len());
        for step in &m.up.steps {
            for h in &step.hazards {
                println!("  -- hazard {}: {}", h.code, h.reason);
            }
            if let Some(lock) =
                schemadiff::plan::lock_of(&step.change).filter(|_| !step.hazards.is_empty())
            {
                println!("  -- takes {lock}");
            }
            for stmt in schemadiff::render::step_sql(step) {
                println!("  {}", stmt.replace('\n', "\n  "));
            }
        }
    }
    println!(
        "Verified in a shadow database: up reaches the schema, down returns to the current state."
    );
    if req.dry_run {
        println!("Dry run: nothing written.");
        return;
    }
    for m in outcome.migrations.iter().filter_map(|m| m.written.as_ref()) {
        println!("Wrote {}", m.up_path.display());
        if let Some(d) = &m.down_path {
            println!("Wrote {}", d.display());
        }
    }
    println!("Updated {}", req.config.migrations_dir.join(migrations::SUM_FILE).display());
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
        on_wait: Some(|message| eprintln!("{message}")),
        history: cfg.history_table.clone(),
    }
}

async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Plan { common, name, allow_hazards, dry_run } => {
            let allow_hazards = allowed_hazards(&allow_hazards);
            let req = PlanRequest { config: config(common)?, name, allow_hazards, dry_run };
            let outcome = schemadiff::plan(&req).await?;
            print_plan(&req, &outcome);
            Ok(())
        }
        Command::Rebase { common, onto, allow_hazards, dry_run } => {
            let allow_hazards = allowed_hazards(&allow_hazards);
            let req = PlanRequest { config: config(common)?, name: None, allow_hazards, dry_run };
            let (moved, outcome) = schemadiff::rebase(&req, &onto).await?;
            println!(
                "{} {} (not on {onto}); planning again after the migrations from {onto}.",
                if dry_run { "Would take out" } else { "Took out" },
                moved.join(", ")
            );
            print_plan(&req, &outcome);
            if !dry_run {
                println!(
                    "Next: `git add {}` and commit the merge.",
                    req.config.migrations_dir.display()
                );
            }
            Ok(())
        }
        Command::Apply { common, contract, dry_run } => {
            let cfg = config(common)?;
            let all = migrations::read_checked(&cfg.migrations_dir)?;
            let client = schemadiff::connect_target(&cfg).await?;
            let contracts =
                apply::Contracts { run: contract, after: cfg.contract_after.clone(), dry_run };
            let (lock_session, watcher) =
                (schemadiff::connect_target(&cfg).await?, schemadiff::connect_target(&cfg).await?);
            let session = run_session(&cfg, &client, &lock_session, &watcher);
            let report = apply::apply_with(&session, &all, &contracts).await?;
            for (id, sql) in &report.would_run {
                println!("-- would apply {id}\n{sql}");
            }
            let nothing =
                if dry_run { report.would_run.is_empty() } else { report.done.is_empty() };
            if nothing && report.waiting.is_none() {
                println!("Nothing to apply: the database is up to date.");
            }
            for (id, ms) in &report.done {
                println!("Applied {id} ({ms} ms)");
            }
            if let Some(id) = &report.waiting {
                println!(
                    "Waiting: {id} is a rename's contract; it drops what code from before the rename still uses. \
                     Once no such code runs, apply it with `schemadiff apply --contract`{}.",
                    match &cfg.contract_after {
                        Some(after) => format!(" (or it runs by itself {after} after its expand)"),
                        None => String::new(),
                    }
                );
            }
            Ok(())
        }
        Command::Down { common, count, allow_hazards, dry_run } => {
            let cfg = config(common)?;
            let all = migrations::read_checked(&cfg.migrations_dir)?;
            let client = schemadiff::connect_target(&cfg).await?;
            let allow_deleting_data =
                allowed_hazards(&allow_hazards).contains(&HazardCode::DeletesData);
            let options = apply::DownOptions { dry_run, allow_deleting_data };
            let (lock_session, watcher) =
                (schemadiff::connect_target(&cfg).await?, schemadiff::connect_target(&cfg).await?);
            let session = run_session(&cfg, &client, &lock_session, &watcher);
            let report = apply::down_with(&session, &all, count, &options).await?;
            for note in &report.notes {
                eprintln!("note: {note}");
            }
            for (id, sql) in &report.would_run {
                println!("-- would revert {id}\n{sql}");
            }
            for (id, ms) in &report.done {
                println!("Reverted {id} ({ms} ms)");
            }
            Ok(())
        }
        Command::Status { common, no_drift } => {
            let cfg = config(common)?;
            // Read as it is, mistakes and all: status reports, it does not refuse.
            let all = migrations::read_dir(&cfg.migrations_dir)?;
            let client = schemadiff::connect_target(&cfg).await?;
            let history = apply::history(&client, &cfg.history_table).await?;
            let states = apply::states(&all, &history);
            if states.is_empty() {
                println!("No migrations in {}.", cfg.migrations_dir.display());
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
                println!("{id}  {label}");
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
                if unsure {
                    println!(
                        "Drift not checked: the applied migrations above are not all whole and present."
                    );
                } else {
                    match schemadiff::drift(&cfg, &client, &applied, &[]).await {
                        Ok(None) => {
                            println!("No drift: the database is what its applied migrations make.")
                        }
                        Ok(Some(drift)) => {
                            troubles.push("the database drifted from its migrations".into());
                            println!(
                                "DRIFT: the database differs from what its applied migrations make (changed by hand?):\n{}\
                                 To bring it back (or put the change in schema/ and plan it):\n  {}",
                                drift.facts,
                                drift.sql.join("\n  ")
                            );
                        }
                        Err(e) => println!("Drift not checked: {e}"),
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
                println!(
                    "Found {} ({}): {} migration(s) applied{}. Left as it is; drop it once {} no longer runs (a plan then proposes it).",
                    schemadiff::render::qualified(&t.table),
                    t.tool,
                    t.applied,
                    t.latest.as_ref().map(|v| format!(", the latest {v}")).unwrap_or_default(),
                    t.tool
                );
            }
            if !no_verify {
                let theirs: Vec<_> = tracking.iter().map(|t| t.table.clone()).collect();
                match schemadiff::drift(&cfg, &client, &chosen, &theirs).await? {
                    None => {
                        println!("Verified: the database is what the migrations up to {last} make.")
                    }
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
            println!(
                "Recorded {} migration(s), up to {last}, as applied without running them; `schemadiff apply` runs what comes after.",
                chosen.len()
            );
            Ok(())
        }
        Command::Check { common } => {
            let cfg = config(common)?;
            for note in schemadiff::check(&cfg).await? {
                eprintln!("note: {note}");
            }
            println!(
                "{} is in sync with {}.",
                cfg.migrations_dir.display(),
                cfg.schema_dir.display()
            );
            Ok(())
        }
    }
}
