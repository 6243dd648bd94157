//! The `generated/` directory: numbered up/down files and `schemadiff.sum`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod folder;
mod naming;
pub use folder::{checked, read_checked, rebase_files};
pub use naming::describe;

use crate::error::{Error, Result};

pub const SUM_FILE: &str = "schemadiff.sum";

/// One numbered migration: `NNN_name.up.sql` and `NNN_name.down.sql`.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub up_path: PathBuf,
    pub up_sql: String,
    pub down_path: Option<PathBuf>,
    pub down_sql: Option<String>,
}

impl Migration {
    /// `001_create_contacts`.
    pub fn id(&self) -> String {
        format!("{:03}_{}", self.version, self.name)
    }

    /// A rename's contract migration (its header carries the marker): `apply` runs it only
    /// when asked or once its expand is old enough.
    pub fn is_contract(&self) -> bool {
        self.up_sql
            .lines()
            .take_while(|l| l.starts_with("--"))
            .any(|l| l.trim_end() == crate::render::CONTRACT_MARKER)
    }

    /// The checksum recorded in the history table: the up file's SHA-256.
    pub fn checksum(&self) -> String {
        sha256(&self.up_sql)
    }
}

/// The SHA-256 of a migration's text with its line endings as LF: a checkout that turns
/// them into CRLF (`core.autocrlf`) has not edited the file.
pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.replace("\r\n", "\n").as_bytes()))
}

/// Where a program's migrations come from: a directory read at run time, or the files of
/// one embedded at compile time with `include_dir::include_dir!`.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Dir(&'a Path),
    Embedded(&'a include_dir::Dir<'a>),
}

impl Source<'_> {
    /// The migrations, refused as `apply` refuses a folder with a mistake in it.
    pub fn load(&self) -> Result<Vec<Migration>> {
        match self {
            Source::Dir(dir) => read_checked(dir),
            Source::Embedded(embedded) => {
                let shown = Path::new("(embedded)");
                let named = |name: &str| {
                    embedded
                        .files()
                        .find(|f| f.path().file_name().and_then(|n| n.to_str()) == Some(name))
                };
                let text = |name: &str| match named(name).map(|f| f.contents_utf8()) {
                    Some(Some(text)) => Ok(text.to_string()),
                    Some(None) => {
                        Err(Error::Migrations(format!("{name}: embedded, but not UTF-8 text")))
                    }
                    None => Err(Error::Migrations(format!("{name}: not embedded"))),
                };
                let names: Vec<String> = (embedded.files())
                    .filter_map(|f| f.path().file_name()?.to_str().map(str::to_string))
                    .collect();
                let all = from_files(shown, &names, |path| text(&file_name(path)))?;
                let sum = named(SUM_FILE).map(|_| text(SUM_FILE)).transpose()?;
                checked(shown, all, sum.as_deref())
            }
        }
    }
}

/// Reads every migration in `dir` (none when it does not exist), in version order.
pub fn read_dir(dir: &Path) -> Result<Vec<Migration>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    for entry in entries {
        let path = entry.map_err(Error::io(dir))?.path();
        if let Some(file) = path.file_name().and_then(|f| f.to_str()) {
            names.push(file.to_string());
        }
    }
    from_files(dir, &names, |path| std::fs::read_to_string(path).map_err(Error::io(path)))
}

/// The migrations among the files `names` of `dir`, each read with `read`: the files of a
/// directory, or those embedded in a program.
pub fn from_files(
    dir: &Path,
    names: &[String],
    read: impl Fn(&Path) -> Result<String>,
) -> Result<Vec<Migration>> {
    let mut ups: BTreeMap<u32, (String, PathBuf)> = BTreeMap::new();
    let mut downs: BTreeMap<u32, PathBuf> = BTreeMap::new();
    for file in names {
        let path = dir.join(file);
        if file == SUM_FILE || file.starts_with('.') {
            continue;
        }
        let (stem, is_up) = if let Some(s) = file.strip_suffix(".up.sql") {
            (s, true)
        } else if let Some(s) = file.strip_suffix(".down.sql") {
            (s, false)
        } else {
            return Err(Error::Migrations(format!(
                "{}: not a migration file; files in {} are named NNN_name.up.sql or NNN_name.down.sql",
                path.display(),
                dir.display()
            )));
        };
        let Some((version, name)) =
            stem.split_once('_').and_then(|(v, n)| Some((v.parse::<u32>().ok()?, n)))
        else {
            return Err(Error::Migrations(format!(
                "{}: a migration file name starts with its number, as in 001_create_contacts.up.sql",
                path.display()
            )));
        };
        let slot = if is_up {
            ups.insert(version, (name.to_string(), path.clone())).map(|(_, p)| p)
        } else {
            downs.insert(version, path.clone())
        };
        if let Some(other) = slot {
            return Err(folder::same_number(version, &other, &path));
        }
    }
    if let Some((version, path)) = downs.iter().find(|(v, _)| !ups.contains_key(v)) {
        return Err(Error::Migrations(format!(
            "{}: down file without an up file for {version:03}",
            path.display()
        )));
    }
    let mut out = Vec::new();
    for (version, (name, up_path)) in ups {
        let up_sql = read(&up_path)?;
        let down_path = downs.remove(&version);
        if let Some(down) = &down_path {
            let stem = |p: &Path, suffix: &str| file_name(p).trim_end_matches(suffix).to_string();
            if stem(&up_path, ".up.sql") != stem(down, ".down.sql") {
                return Err(Error::Migrations(format!(
                    "{} and {} share a number but not a name; an up file and its down file are named alike",
                    up_path.display(),
                    down.display()
                )));
            }
        }
        let down_sql = match &down_path {
            Some(p) => Some(read(p)?),
            None => None,
        };
        out.push(Migration { version, name, up_path, up_sql, down_path, down_sql });
    }
    Ok(out)
}

/// The sum file's text for a set of migrations: one line per file, sorted.
pub fn sum_text(migrations: &[Migration]) -> String {
    let mut lines = vec![
        "# schemadiff.sum: checksums of the files beside it; `schemadiff plan` writes it"
            .to_string(),
    ];
    for m in migrations {
        lines.push(format!("{} sha256:{}", file_name(&m.up_path), sha256(&m.up_sql)));
        if let (Some(p), Some(sql)) = (&m.down_path, &m.down_sql) {
            lines.push(format!("{} sha256:{}", file_name(p), sha256(sql)));
        }
    }
    lines.join("\n") + "\n"
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Checks `schemadiff.sum` against the files; the error names each file that differs.
pub fn verify_sum(dir: &Path, migrations: &[Migration]) -> Result<()> {
    let sum_path = dir.join(SUM_FILE);
    let recorded = match sum_path.exists() {
        true => Some(std::fs::read_to_string(&sum_path).map_err(Error::io(&sum_path))?),
        false => None,
    };
    verify_sum_text(dir, recorded.as_deref(), migrations)
}

/// Checks the text of `dir`'s `schemadiff.sum` (None: there is none) against the files.
pub fn verify_sum_text(dir: &Path, recorded: Option<&str>, migrations: &[Migration]) -> Result<()> {
    let sum_path = dir.join(SUM_FILE);
    let Some(recorded) = recorded else {
        if migrations.is_empty() {
            return Ok(());
        }
        return Err(Error::Migrations(format!(
            "{} is missing; it records the checksums of the migrations. If the files are right, \
             restore it from version control",
            sum_path.display()
        )));
    };
    folder::refuse_conflict_markers(&sum_path, recorded)?;
    let recorded = recorded.replace("\r\n", "\n");
    let expected = sum_text(migrations);
    if recorded == expected {
        return Ok(());
    }
    let parse = |text: &str| -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_once(' ').map(|(f, s)| (f.to_string(), s.to_string())))
            .collect()
    };
    let (recorded, expected) = (parse(&recorded), parse(&expected));
    let mut problems = Vec::new();
    for (file, sum) in &expected {
        match recorded.get(file) {
            None => problems.push(format!("  {file}: not in {SUM_FILE} (added by hand?)")),
            Some(s) if s != sum => {
                problems.push(format!("  {file}: edited after it was generated"))
            }
            _ => {}
        }
    }
    for file in recorded.keys().filter(|f| !expected.contains_key(*f)) {
        problems.push(format!(
            "  {file}: listed in {SUM_FILE} but missing; restore it (`git checkout -- {}`)",
            dir.join(file).display()
        ));
    }
    if problems.is_empty() {
        problems.push(format!("  {SUM_FILE} is not in its canonical form"));
    }
    Err(Error::Migrations(format!(
        "{} does not match the migration files:\n{}\nmigrations are generated: change schema/ and run `schemadiff plan` instead of editing them",
        sum_path.display(),
        problems.join("\n")
    )))
}

/// Writes a new migration pair and the updated sum, or nothing at all.
pub fn write_new(
    dir: &Path,
    existing: &[Migration],
    name: &str,
    up_sql: &str,
    down_sql: &str,
) -> Result<Migration> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let version = existing.last().map_or(1, |m| m.version + 1);
    let id = format!("{version:03}_{name}");
    let migration = Migration {
        version,
        name: name.to_string(),
        up_path: dir.join(format!("{id}.up.sql")),
        up_sql: up_sql.to_string(),
        down_path: Some(dir.join(format!("{id}.down.sql"))),
        down_sql: Some(down_sql.to_string()),
    };
    let mut all = existing.to_vec();
    all.push(migration.clone());
    let sum = sum_text(&all);
    let targets = [
        (migration.up_path.clone(), up_sql.to_string()),
        (migration.down_path.clone().expect("just set"), down_sql.to_string()),
        (dir.join(SUM_FILE), sum),
    ];
    // Write every file beside its target first, then rename: no partial migration is left.
    let mut staged = Vec::new();
    for (target, text) in &targets {
        let tmp = dir.join(format!(".{}.tmp", file_name(target)));
        if let Err(e) = std::fs::write(&tmp, text) {
            staged.iter().for_each(|(t, _): &(PathBuf, &PathBuf)| {
                let _ = std::fs::remove_file(t);
            });
            return Err(Error::Io { path: tmp, source: e });
        }
        staged.push((tmp, target));
    }
    for (tmp, target) in staged {
        std::fs::rename(&tmp, target).map_err(Error::io(target))?;
    }
    Ok(migration)
}

/// A file-name-safe description of at most 60 characters.
pub fn slug(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let mut s = s.trim_matches('_').to_string();
    if s.len() > 60 {
        // Cut at a word boundary so the name does not end in half a word.
        s.truncate(60);
        if let Some(i) = s.rfind('_').filter(|&i| i > 20) {
            s.truncate(i);
        }
    }
    if s.is_empty() { "migration".to_string() } else { s }
}
