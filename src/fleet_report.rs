//! What `apply` and `status` print for a fleet: a line per target as it finishes, then the
//! whole fleet in one line; the same facts under "targets" with `--format json`.

use std::collections::BTreeMap;

use schemadiff::Error;
use schemadiff::apply::fleet::{FleetEvent, Outcome, TargetRun, TargetStatus};
use serde_json::json;

use crate::out::Out;

/// A bar of targets done on standard error, when the output is a terminal.
pub struct FleetProgress {
    bar: Option<indicatif::ProgressBar>,
    json: bool,
}

impl FleetProgress {
    pub fn new(out: &Out, targets: usize) -> FleetProgress {
        let bar = out.progress().then(|| {
            let bar = indicatif::ProgressBar::new(targets as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} targets  {elapsed}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        FleetProgress { bar, json: out.json() }
    }

    fn line(&self, text: String) {
        match (&self.bar, self.json) {
            (Some(bar), _) => bar.println(text),
            (None, false) => println!("{text}"),
            (None, true) => {}
        }
    }

    pub fn tell(&self, event: FleetEvent<'_>) {
        match event {
            FleetEvent::Waiting { target, message } => match &self.bar {
                Some(bar) => bar.println(format!("{target}: {message}")),
                None => eprintln!("{target}: {message}"),
            },
            FleetEvent::Started(target) => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("started {target}"));
                }
            }
            FleetEvent::Finished(run) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                self.line(run_line(run));
            }
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn at(at: &Option<String>) -> String {
    match at {
        Some(id) => format!("at {id}"),
        None => "no migration applied".into(),
    }
}

/// One target's run in a line: `name: applied 001_a, 002_b` and where it stands.
fn run_line(run: &TargetRun) -> String {
    let TargetRun { target, outcome, at: now } = run;
    match outcome {
        Outcome::Done(report) => {
            let mut line = if !report.would_run.is_empty() {
                let ids: Vec<&str> = report.would_run.iter().map(|(id, _)| id.as_str()).collect();
                format!("{target}: would apply {}", ids.join(", "))
            } else if !report.done.is_empty() {
                let ids: Vec<&str> = report.done.iter().map(|(id, _)| id.as_str()).collect();
                let ms: i64 = report.done.iter().map(|(_, ms)| ms).sum();
                format!("{target}: applied {} ({ms} ms), now {}", ids.join(", "), at(now))
            } else {
                format!("{target}: up to date, {}", at(now))
            };
            if let Some(id) = &report.waiting {
                line.push_str(&format!("; {id} (a contract) waits for `apply --contract`"));
            }
            line
        }
        Outcome::Failed(e) => {
            format!("{target}: FAILED, {}: {}", at(now), e.lines().next().unwrap_or_default())
        }
        Outcome::NotStarted => format!("{target}: not started"),
    }
}

/// After a fleet `apply`: the count of each outcome, where the targets stand, and each
/// failure in full; an error when any target failed or was not started.
pub fn apply_summary(runs: &[TargetRun], out: &mut Out) -> Result<(), Error> {
    let (mut migrated, mut current, mut failed, mut not_started) = (0, 0, Vec::new(), Vec::new());
    for run in runs {
        let (result, applied, error) = match &run.outcome {
            Outcome::Done(report) if report.done.is_empty() && report.would_run.is_empty() => {
                current += 1;
                ("up_to_date", &report.done, None)
            }
            Outcome::Done(report) => {
                migrated += 1;
                ("migrated", &report.done, None)
            }
            Outcome::Failed(e) => {
                failed.push(run);
                ("failed", &Vec::new(), Some(e))
            }
            Outcome::NotStarted => {
                not_started.push(run.target.as_str());
                ("not_started", &Vec::new(), None)
            }
        };
        let (would_run, waiting) = match &run.outcome {
            Outcome::Done(r) => {
                (r.would_run.iter().map(|(id, _)| id.clone()).collect(), r.waiting.clone())
            }
            _ => (Vec::new(), None),
        };
        out.push(
            "targets",
            json!({
                "target": run.target,
                "result": result,
                "applied": applied.iter().map(|(id, ms)| json!({"id": id, "ms": ms})).collect::<Vec<_>>(),
                "would_run": would_run,
                "waiting_contract": waiting,
                "error": error,
                "at": run.at,
            }),
        );
    }
    for run in runs.iter().filter(|r| matches!(r.outcome, Outcome::NotStarted)) {
        out.say(run_line(run));
    }
    for run in &failed {
        if let Outcome::Failed(e) = &run.outcome {
            out.say(format!("{}:\n  {}", run.target, e.replace('\n', "\n  ")));
        }
    }
    out.say(format!(
        "Fleet of {}: {migrated} migrated, {current} up to date, {} failed, {} not started; {}.",
        runs.len(),
        failed.len(),
        not_started.len(),
        standing(runs.iter().map(|r| &r.at))
    ));
    if failed.is_empty() && not_started.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = failed.iter().map(|r| r.target.as_str()).collect();
    Err(Error::Migrations(format!(
        "apply: {} of {} targets failed ({}){}; what each applied is recorded, and a re-run takes every target on from where it stopped",
        failed.len(),
        runs.len(),
        names.join(", "),
        match not_started.len() {
            0 => String::new(),
            n => format!(", {n} not started (--keep-going runs the others after a failure)"),
        }
    )))
}

/// `all at 003_x`, or how many stand at each version.
fn standing<'a>(ats: impl Iterator<Item = &'a Option<String>>) -> String {
    let mut counts: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for a in ats {
        *counts.entry(a.as_deref()).or_default() += 1;
    }
    let at = |a: Option<&str>| match a {
        Some(id) => format!("at {id}"),
        None => "with no migration applied".into(),
    };
    match counts.len() {
        1 => format!("all {}", at(*counts.keys().next().unwrap_or(&None))),
        _ => {
            let each: Vec<String> =
                (counts.iter().rev()).map(|(a, n)| format!("{n} {}", at(*a))).collect();
            each.join(", ")
        }
    }
}

/// A fleet's `status`: a line per target, the fleet in one line; an error when a target
/// could not be read or needs a person.
pub fn status_report(statuses: &[TargetStatus], out: &mut Out) -> Result<(), Error> {
    let (mut current, mut behind, mut trouble, mut unreachable) = (0, 0, 0, 0);
    for s in statuses {
        out.push(
            "targets",
            json!({
                "target": s.target,
                "at": s.at,
                "pending": s.pending,
                "troubles": s.troubles,
                "unreachable": s.unreachable,
            }),
        );
        let line = if let Some(e) = &s.unreachable {
            unreachable += 1;
            format!("{}: UNREACHABLE: {}", s.target, e.lines().next().unwrap_or_default())
        } else {
            let mut line = format!("{}: {}", s.target, at(&s.at));
            match s.pending.len() {
                0 => line.push_str(", up to date"),
                n => line.push_str(&format!(", {n} pending ({})", s.pending.join(", "))),
            }
            if !s.troubles.is_empty() {
                line.push_str(&format!("; {}", s.troubles.join("; ")));
                trouble += 1;
            } else if s.pending.is_empty() {
                current += 1;
            } else {
                behind += 1;
            }
            line
        };
        out.say(line);
    }
    out.say(format!(
        "Fleet of {}: {current} up to date, {behind} behind, {trouble} needing attention, {unreachable} unreachable; {}.",
        statuses.len(),
        standing(statuses.iter().filter(|s| s.unreachable.is_none()).map(|s| &s.at))
    ));
    out.say(
        "Drift is not checked across a fleet: `schemadiff status --database-url URL` checks one database.",
    );
    match trouble + unreachable {
        0 => Ok(()),
        n => Err(Error::Migrations(format!(
            "status: {n} of {} targets need attention (see above)",
            statuses.len()
        ))),
    }
}
