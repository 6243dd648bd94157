//! Settings from flags, the environment and `schemadiff.toml`, resolved once.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::apply::Waits;
use crate::catalog::Manage;
use crate::connect::{self, ConnInfo};
use crate::error::{Error, Result};

/// `schemadiff.toml` in the working directory; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub dev_url: Option<String>,
    pub schema_dir: Option<PathBuf>,
    pub migrations_dir: Option<PathBuf>,
    /// Objects schemadiff cannot manage that may differ anyway, as patterns over their names
    /// (`rule * on public.contacts`; `*` matches anything).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `false`: leave `GRANT`/`REVOKE` and default privileges alone (for targets without
    /// the roles the schema names).
    pub privileges: Option<bool>,
    /// `false`: leave owners alone.
    pub owners: Option<bool>,
    /// `"error"`: an `INSERT` (or other data statement) in `schema/` stops the plan; by
    /// default it is named in a note and left out.
    pub data_statements: Option<DataStatements>,
    /// Every generated file sets these (`"5s"`, `"1min"`, `"500ms"`, `"0"` for none).
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    /// Around index builds, validations and rewrites, which read a whole table.
    pub long_statement_timeout: Option<String>,
    /// A rename's contract migration runs on `apply` (without `--contract`) once its expand
    /// has been applied this long (`"7d"`, `"12h"`); unset, only `apply --contract` runs it.
    pub contract_after: Option<String>,
    /// How long `apply` and `down` wait for the migration lock another run holds (`"5min"`).
    pub lock_wait: Option<String>,
    /// Times a transaction that gave up waiting for a table's lock is tried again (3).
    pub lock_retries: Option<u32>,
    /// The history table, `schema.table` (`public.schemadiff_migrations`); a schema other
    /// than `public` is created when missing.
    pub history_table: Option<String>,
}

/// The timeouts a generated file sets: a statement that waits longer than `lock` for its lock
/// gives up instead of queueing every query behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub lock: String,
    pub statement: String,
    pub long_statement: String,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { lock: "5s".into(), statement: "1min".into(), long_statement: "1h".into() }
    }
}

impl Timeouts {
    fn from_file(file: &FileConfig, path: &Path) -> Result<Timeouts> {
        let valid = duration_pattern();
        let pick = |key: &str, value: &Option<String>, default: String| match value {
            Some(v) if valid.is_match(v.trim()) => Ok(v.trim().to_string()),
            Some(v) => Err(Error::Usage(format!(
                "{}: {key} = {v:?} is not a duration PostgreSQL reads (\"5s\", \"1min\", \"500ms\", \"0\")",
                path.display()
            ))),
            None => Ok(default),
        };
        let default = Timeouts::default();
        Ok(Timeouts {
            lock: pick("lock_timeout", &file.lock_timeout, default.lock)?,
            statement: pick("statement_timeout", &file.statement_timeout, default.statement)?,
            long_statement: pick(
                "long_statement_timeout",
                &file.long_statement_timeout,
                default.long_statement,
            )?,
        })
    }
}

/// A duration as `duration_pattern` reads it; a bare number is milliseconds, as PostgreSQL
/// reads `lock_timeout`.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let n: u64 = text[..digits].parse().ok()?;
    let ms = match text[digits..].trim() {
        "us" => return Some(std::time::Duration::from_micros(n)),
        "" | "ms" => n,
        "s" => n * 1000,
        "min" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => return None,
    };
    Some(std::time::Duration::from_millis(ms))
}

/// A number with an optional unit, as PostgreSQL reads durations and intervals.
fn duration_pattern() -> regex::Regex {
    regex::Regex::new(r"^\d+\s*(us|ms|s|min|h|d)?$").expect("a valid pattern")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataStatements {
    Note,
    Error,
}

/// The resolved settings every command works from.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<ConnInfo>,
    pub dev_url: Option<ConnInfo>,
    pub schema_dir: PathBuf,
    pub migrations_dir: PathBuf,
    /// See `FileConfig::exclude`.
    pub exclude: Vec<String>,
    /// Whether privileges and owners are managed.
    pub manage: Manage,
    /// Whether data statements in `schema/` stop the plan.
    pub refuse_data: bool,
    pub timeouts: Timeouts,
    /// See `FileConfig::contract_after`: an interval PostgreSQL reads.
    pub contract_after: Option<String>,
    /// How `apply` and `down` wait for locks.
    pub waits: Waits,
    /// Where `apply` records what it ran.
    pub history_table: crate::apply::HistoryTable,
}

/// What the command line gave.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub database_url: Option<String>,
    pub dev_url: Option<String>,
    pub schema_dir: Option<PathBuf>,
    pub migrations_dir: Option<PathBuf>,
}

impl Config {
    /// Whether `object` (as `unmanaged.sql` names it) matches an `exclude` pattern.
    pub fn excludes(&self, object: &str) -> bool {
        self.exclude.iter().any(|pattern| {
            let regex = format!("^{}$", regex::escape(pattern).replace(r"\*", ".*"));
            regex::Regex::new(&regex).is_ok_and(|r| r.is_match(object))
        })
    }

    /// Flags first, then `DATABASE_URL` / `SCHEMADIFF_DEV_URL`, then `schemadiff.toml`.
    pub fn resolve(flags: Flags, file: &Path) -> Result<Config> {
        let from_file: FileConfig = if file.exists() {
            let text = std::fs::read_to_string(file).map_err(Error::io(file))?;
            toml::from_str(&text).map_err(|e| toml_error(file, &text, &e))?
        } else {
            FileConfig::default()
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let timeouts = Timeouts::from_file(&from_file, file)?;
        let contract_after = match from_file.contract_after.as_deref().map(str::trim) {
            Some(v) if duration_pattern().is_match(v) => Some(v.to_string()),
            Some(v) => {
                return Err(Error::Usage(format!(
                    "{}: contract_after = {v:?} is not a duration PostgreSQL reads (\"7d\", \"12h\", \"30min\")",
                    file.display()
                )));
            }
            None => None,
        };
        let parsed = |text: Option<String>| text.map(|t| connect::parse(&t)).transpose();
        let mut waits = Waits::default();
        if let Some(v) = &from_file.lock_wait {
            waits.lock_wait = parse_duration(v).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: lock_wait = {v:?} is not a duration (\"30s\", \"5min\")",
                    file.display()
                ))
            })?;
        }
        if let Some(n) = from_file.lock_retries {
            waits.lock_retries = n;
        }
        let history_table = match &from_file.history_table {
            Some(name) => crate::apply::HistoryTable::parse(name)?,
            None => crate::apply::HistoryTable::default(),
        };
        Ok(Config {
            history_table,
            database_url: parsed(flags.database_url.or_else(|| env("DATABASE_URL")))?,
            dev_url: parsed(
                flags.dev_url.or_else(|| env("SCHEMADIFF_DEV_URL")).or(from_file.dev_url),
            )?,
            schema_dir: flags
                .schema_dir
                .or(from_file.schema_dir)
                .unwrap_or_else(|| "schema".into()),
            migrations_dir: flags
                .migrations_dir
                .or(from_file.migrations_dir)
                .unwrap_or_else(|| "generated".into()),
            exclude: from_file.exclude,
            manage: Manage {
                privileges: from_file.privileges.unwrap_or(true),
                owners: from_file.owners.unwrap_or(true),
            },
            refuse_data: from_file.data_statements == Some(DataStatements::Error),
            timeouts,
            contract_after,
            waits,
        })
    }
}

/// A `schemadiff.toml` error at file:line:column with toml's message but not the line
/// itself, which may hold a password (`dev_url`).
fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> Error {
    let at = e.span().map_or(0, |span| span.start);
    let location = crate::source::locate(file, text, at);
    Error::Usage(format!("{location}: {}", e.message().trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_error_names_the_place_but_never_echoes_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schemadiff.toml");
        std::fs::write(&file, "dev_url = \"postgres://app:s3cret@db/crm\"\nlock_timout = \"5s\"\n")
            .unwrap();
        let err = Config::resolve(Flags::default(), &file).unwrap_err().to_string();
        assert!(err.contains("schemadiff.toml:2:1"), "{err}");
        assert!(err.contains("lock_timout"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        std::fs::write(&file, "dev_url = \"host=db password=it\\\\ s user=app\"\n").unwrap();
        let config = Config::resolve(Flags::default(), &file).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("it s") && !shown.contains("it\\ s"), "{shown}");
        assert!(shown.contains("password=****"), "{shown}");
    }
}
