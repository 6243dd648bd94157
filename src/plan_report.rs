//! `plan --format markdown`: what a pull-request comment shows of a plan. Each migration's
//! steps in a table (the object, what happens to it, the lock it takes, whether it reads or
//! writes the whole table, its hazards), each hazard with its reason, the SQL folded away, and
//! the files written.

use schemadiff::plan::{HazardCode, Step, lock_of, touches};
use schemadiff::{PlanOutcome, PlannedMigration};

/// The document for `outcome`, a plan towards `schema` (a schema directory, or what `diff`
/// compares to); `dry_run` when nothing was written.
pub fn markdown(command: &str, schema: &str, dry_run: bool, outcome: &PlanOutcome) -> String {
    let mut out = format!("## schemadiff {command}\n\n");
    if outcome.is_empty() {
        out.push_str(&format!("No changes: the database matches `{schema}`.\n"));
        return notes(out, outcome);
    }
    let count = outcome.migrations.len();
    out.push_str(&format!(
        "{count} migration{}, verified in a shadow database: up reaches `{schema}` and down \
         returns to the state before.{}\n",
        if count == 1 { "" } else { "s" },
        if dry_run && command == "plan" { " Dry run: nothing written." } else { "" }
    ));
    for m in &outcome.migrations {
        migration(&mut out, m, dry_run);
    }
    notes(out, outcome)
}

fn migration(out: &mut String, m: &PlannedMigration, dry_run: bool) {
    out.push_str(&format!("\n### {}\n\n", m.id));
    if m.contract {
        out.push_str(
            "The contract of a rename: it drops what code from before the rename still uses, \
             and `schemadiff apply` runs it only with `--contract`.\n\n",
        );
    }
    out.push_str("| # | Object | Change | Lock | Table | Hazards |\n");
    out.push_str("|---|--------|--------|------|-------|---------|\n");
    for (i, step) in m.up.steps.iter().enumerate() {
        let (object, change) = subject(step);
        let lock = lock_of(&step.change).map_or("none".to_string(), |l| l.to_string());
        let codes: Vec<String> = step.hazards.iter().map(|h| format!("`{}`", h.code)).collect();
        out.push_str(&format!(
            "| {} | {} | {change} | {lock} | {} | {} |\n",
            i + 1,
            cell(&object),
            table_work(step),
            if codes.is_empty() { "none".to_string() } else { codes.join(" ") }
        ));
    }
    let hazards: Vec<String> = (m.up.steps.iter().enumerate())
        .flat_map(|(i, s)| s.hazards.iter().map(move |h| (i, h)))
        .map(|(i, h)| format!("- `{}` (step {}): {}", h.code, i + 1, h.reason))
        .collect();
    if !hazards.is_empty() {
        out.push_str(&format!("\n**Hazards**\n\n{}\n", hazards.join("\n")));
    }
    let down = m.down.hazard_codes();
    if !down.is_empty() {
        let codes: Vec<String> = down.iter().map(|c| format!("`{c}`")).collect();
        out.push_str(&format!(
            "\nIts down raises {} (reasons in the down SQL).\n",
            codes.join(", ")
        ));
    }
    for (title, sql) in [("up", &m.up_sql), ("down", &m.down_sql)] {
        out.push_str(&format!(
            "\n<details><summary>{title} SQL</summary>\n\n```sql\n{}\n```\n\n</details>\n",
            sql.trim_end()
        ));
    }
    if let Some(written) = m.written.as_ref().filter(|_| !dry_run) {
        let mut files = vec![format!("`{}`", written.up_path.display())];
        files.extend(written.down_path.iter().map(|d| format!("`{}`", d.display())));
        out.push_str(&format!("\nWritten: {}\n", files.join(", ")));
    }
}

/// The object a step is about, and what happens to it.
fn subject(step: &Step) -> (String, &'static str) {
    let t = touches(&step.change);
    let (id, change) = if let Some(id) = t.creates.first() {
        (Some(id), if t.drops.is_empty() { "create" } else { "replace" })
    } else if let Some(id) = t.drops.first() {
        (Some(id), "drop")
    } else if let Some(id) = t.alters.first() {
        (Some(id), "alter")
    } else {
        // Comments and grants name their object last among what they require.
        let sql = schemadiff::render::step_sql(step);
        let word = sql.first().and_then(|s| s.split_whitespace().next()).unwrap_or("");
        let change = match word {
            "COMMENT" => "comment",
            "GRANT" => "grant",
            "REVOKE" => "revoke",
            _ => "alter",
        };
        (t.requires.last(), change)
    };
    (id.map_or_else(|| "the database".to_string(), |id| id.to_string()), change)
}

/// Whether the step reads or writes the whole table, as its hazards say.
fn table_work(step: &Step) -> &'static str {
    let has = |code: HazardCode| step.hazards.iter().any(|h| h.code == code);
    if has(HazardCode::TableRewrite) {
        "rewrites"
    } else if has(HazardCode::IndexBuild) {
        "reads (index build)"
    } else if has(HazardCode::TableScan) || has(HazardCode::FailsOnRows) {
        "reads"
    } else if has(HazardCode::DataBackfill) {
        "writes every row"
    } else if step.long {
        "may read"
    } else {
        "no"
    }
}

/// Table cells hold no `|`.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn notes(mut out: String, outcome: &PlanOutcome) -> String {
    if !outcome.notes.is_empty() {
        out.push_str("\n**Notes**\n\n");
        for note in &outcome.notes {
            out.push_str(&format!("- {note}\n"));
        }
    }
    out
}
