//! The mistakes a migrations folder meets in a team (a number taken twice after a merge, a
//! gap, a lost down file, a conflicted `schemadiff.sum`), each refused with its fix, and the
//! file moves of `schemadiff rebase`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Migration, SUM_FILE, read_dir, verify_sum_text};
use crate::error::{Error, Result};

/// Reads the folder and refuses what `apply`, `plan` and `check` must not run on: every
/// number once, no gap, each up file with its down file, and `schemadiff.sum` agreeing.
pub fn read_checked(dir: &Path) -> Result<Vec<Migration>> {
    let all = read_dir(dir)?;
    let sum_path = dir.join(SUM_FILE);
    let sum = match sum_path.exists() {
        true => Some(std::fs::read_to_string(&sum_path).map_err(Error::io(&sum_path))?),
        false => None,
    };
    checked(dir, all, sum.as_deref())
}

/// `read_checked` of migrations already read, with the text of their `schemadiff.sum`.
pub fn checked(dir: &Path, all: Vec<Migration>, sum: Option<&str>) -> Result<Vec<Migration>> {
    for pair in all.windows(2) {
        if pair[1].version != pair[0].version + 1 {
            let missing = pair[0].version + 1;
            return Err(Error::Migrations(format!(
                "{} has no migration {missing:03} between {} and {}: a file was deleted or renamed. \
                 Restore it from version control (`git checkout -- {}`); migrations are never renumbered once written",
                dir.display(),
                pair[0].id(),
                pair[1].id(),
                dir.display()
            )));
        }
    }
    if let Some(m) = all.iter().find(|m| m.down_path.is_none()) {
        return Err(Error::Migrations(format!(
            "{}: {}.down.sql is missing; `schemadiff down` runs it to revert {}. Restore it from \
             version control (`git checkout -- {}`)",
            dir.display(),
            m.id(),
            m.id(),
            dir.join(format!("{}.down.sql", m.id())).display()
        )));
    }
    verify_sum_text(dir, sum, &all)?;
    Ok(all)
}

/// Two files with one number: after a merge, each branch's migration after the same one.
pub(super) fn same_number(version: u32, first: &Path, second: &Path) -> Error {
    Error::Migrations(format!(
        "{} and {} have the same number {version:03}: two branches each added a migration after {:03}. \
         Run `schemadiff rebase` on the branch merged last: it moves that branch's new migrations \
         after the ones merged first and plans them again",
        first.display(),
        second.display(),
        version.saturating_sub(1)
    ))
}

/// A `schemadiff.sum` that git could not merge: it is rewritten, never merged by hand.
pub(super) fn refuse_conflict_markers(path: &Path, text: &str) -> Result<()> {
    let marker = |l: &str| ["<<<<<<<", "=======", ">>>>>>>"].iter().any(|m| l.starts_with(m));
    match text.lines().position(marker) {
        Some(i) => Err(Error::Migrations(format!(
            "{}:{}: a merge conflict: two branches each added migrations. Do not merge it by hand: \
             run `schemadiff rebase`, which moves this branch's new migrations after the ones merged \
             first, plans them again and writes the sum",
            path.display(),
            i + 1
        ))),
        None => Ok(()),
    }
}

/// What `rebase` took out of the folder, to put back if planning again fails.
#[derive(Debug)]
pub struct Moved {
    /// The branch's migration files, with their text.
    pub files: Vec<(PathBuf, String)>,
    /// The sum file as it was (conflicted, most likely), when there was one.
    pub sum: Option<String>,
    /// The names of the branch's up files (`002_add_email`).
    pub ids: Vec<String>,
}

impl Moved {
    /// Puts the folder back as it was.
    pub fn restore(&self, dir: &Path) -> Result<()> {
        for (path, text) in &self.files {
            std::fs::write(path, text).map_err(Error::io(path))?;
        }
        if let Some(sum) = &self.sum {
            let path = dir.join(SUM_FILE);
            std::fs::write(&path, sum).map_err(Error::io(&path))?;
        }
        Ok(())
    }
}

/// Takes out of `dir` the migration files `onto` (a git revision) does not have, and writes
/// the sum of those left: the folder is then the one merged first, ready to plan again.
pub fn rebase_files(dir: &Path, onto: &str) -> Result<Moved> {
    let theirs = files_at(dir, onto)?;
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    let mut ours: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry.map_err(Error::io(dir))?.path();
        let name = path.file_name().and_then(|f| f.to_str()).unwrap_or("").to_string();
        let is_migration = name.ends_with(".up.sql") || name.ends_with(".down.sql");
        if is_migration && !theirs.contains(&name) {
            ours.push(path);
        }
    }
    ours.sort();
    let absent: Vec<&String> = (theirs.iter())
        .filter(|f| (f.ends_with(".up.sql") || f.ends_with(".down.sql")) && !dir.join(f).exists())
        .collect();
    if !absent.is_empty() {
        return Err(Error::Migrations(format!(
            "{onto} has migrations this folder lacks ({}): merge {onto} first (`git merge {onto}`), then rebase",
            absent.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    if ours.is_empty() {
        return Err(Error::Migrations(format!(
            "nothing to rebase: every migration in {} is also on {onto}",
            dir.display()
        )));
    }
    let mut moved = Moved { files: Vec::new(), sum: None, ids: Vec::new() };
    for path in &ours {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        let name = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        if let Some(id) = name.strip_suffix(".up.sql") {
            moved.ids.push(id.to_string());
        }
        moved.files.push((path.clone(), text));
    }
    let sum_path = dir.join(SUM_FILE);
    moved.sum = std::fs::read_to_string(&sum_path).ok();
    for path in &ours {
        std::fs::remove_file(path).map_err(Error::io(path))?;
    }
    let rewrite = read_dir(dir).and_then(|left| {
        std::fs::write(&sum_path, super::sum_text(&left)).map_err(Error::io(&sum_path))
    });
    if let Err(e) = rewrite {
        moved.restore(dir)?;
        return Err(e);
    }
    Ok(moved)
}

/// The names of the files directly in `dir` at git revision `rev`.
fn files_at(dir: &Path, rev: &str) -> Result<BTreeSet<String>> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["ls-tree", "--name-only", rev, "--", "."])
        .output()
        .map_err(|e| {
            Error::Migrations(format!(
                "rebase reads {} at {rev} with git, which did not run: {e}",
                dir.display()
            ))
        })?;
    if !output.status.success() {
        return Err(Error::Migrations(format!(
            "rebase reads {} at {rev} with git, which said: {}; name the branch merged first with --onto",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect())
}
