//! Another tool's migration folder, read for `schemadiff import`: which files are up steps,
//! in which order, and which are still pending. The layouts teams keep:
//! - `001_create_x.sql` with `001_create_x_down.sql` (or `.up.sql` / `.down.sql`, popx's
//!   `<version>_<name>[.postgres][.autocommit].up.sql`);
//! - `20230601_add_x.sql` with `20230601_rollback_add_x.sql`;
//! - Flyway's `V1__x.sql` (`U1__x.sql` undoes it);
//! - Diesel's `2023-06-01-000000_add_x/up.sql` and `down.sql` directories;
//! - one file with both directions behind markers (`-- migrate:up`/`-- migrate:down`,
//!   `-- +goose Up`/`Down`, `-- +migrate Up`/`Down`), or with the down kept in comments;
//! - any of these split into `applied/` and `pending/` folders.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One up step of the folder, in the order it runs.
#[derive(Debug, Clone)]
pub struct Step {
    /// The version the file names (`001`, `20230601`, `2019-02-26-002946`), as written.
    pub version: String,
    /// The rest of its name: `create_x`.
    pub name: String,
    pub path: PathBuf,
    /// The SQL the up step runs (the up section of a file with both).
    pub sql: String,
    /// In a `pending/` folder: written, not yet applied.
    pub pending: bool,
}

impl Step {
    /// The version as numbers, for ordering and for comparing with a tracking table's.
    pub fn version_key(&self) -> Vec<u128> {
        version_key(&self.version)
    }
}

/// The numbers in a version (`2019-02-26-002946` is 2019, 2, 26, 2946; `V1_2` is 1, 2), or
/// its digits as one number when it has no separators.
pub fn version_key(version: &str) -> Vec<u128> {
    let digits: String = version.chars().filter(|c| c.is_ascii_digit()).collect();
    // Dates written with dashes compare as their digits (2019-02-26 before 2019-10-01).
    if version.contains('-') || !version.contains(['.', '_']) {
        return vec![digits.parse().unwrap_or(u128::MAX)];
    }
    version
        .split(['.', '_'])
        .filter_map(|p| p.trim_start_matches(['V', 'v']).parse().ok())
        .collect()
}

/// The up steps of `dir`, in the order they run: by version, then name.
pub fn read_folder(dir: &Path) -> Result<Vec<Step>> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!("{}: not a directory of migrations", dir.display())));
    }
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    let mut steps = Vec::new();
    for path in &files {
        let Some(step) = up_step(dir, path, &files)? else { continue };
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no migration files found (.sql files, or Diesel's up.sql directories)",
            dir.display()
        )));
    }
    steps.sort_by(|a, b| {
        (a.version_key(), &a.version, &a.name).cmp(&(b.version_key(), &b.version, &b.name))
    });
    Ok(steps)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql")) {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// Dialects other tools keep beside PostgreSQL's files.
const OTHER_DIALECTS: [&str; 4] = ["mysql", "sqlite", "sqlite3", "cockroach"];

fn up_step(root: &Path, path: &Path, all: &[PathBuf]) -> Result<Option<Step>> {
    let file = path.file_name().unwrap_or_default().to_string_lossy().to_lowercase();
    let pending = path
        .strip_prefix(root)
        .is_ok_and(|rel| rel.components().any(|c| c.as_os_str().eq_ignore_ascii_case("pending")));
    let read = || std::fs::read_to_string(path).map_err(Error::io(path));
    // Diesel: the directory is the migration.
    if file == "down.sql" {
        return Ok(None);
    }
    if file == "up.sql" {
        let dir = path.parent().and_then(|d| d.file_name()).unwrap_or_default().to_string_lossy();
        let (version, name) = split_version(&dir);
        return Ok(Some(Step { version, name, path: path.into(), sql: read()?, pending }));
    }
    let stem = file.trim_end_matches(".sql");
    let parts: Vec<&str> = stem.split('.').collect();
    if parts.iter().any(|p| OTHER_DIALECTS.contains(p)) {
        return Ok(None);
    }
    // The dialect-neutral file gives way to PostgreSQL's own.
    if !parts.contains(&"postgres") && parts.len() > 1 {
        let postgres =
            path.with_file_name(format!("{}.postgres.{}.sql", parts[0], parts[1..].join(".")));
        if all.contains(&postgres) {
            return Ok(None);
        }
    }
    let base = parts[0];
    let down = parts.contains(&"down")
        || parts.contains(&"undo")
        || base.ends_with("_down")
        || base.ends_with("_rollback")
        || base.ends_with("_undo")
        || base.starts_with('u') && base.contains("__")
        || base.split('_').nth(1) == Some("rollback");
    if down {
        return Ok(None);
    }
    let base = base.trim_end_matches("_up");
    let (version, name) = split_version(base);
    let sql = up_section(&read()?);
    Ok(Some(Step { version, name, path: path.into(), sql, pending }))
}

/// `001_create_x` is version `001`, name `create_x`; Flyway's `V1_2__x` is `1_2`, `x`;
/// Diesel's `2019-02-26-002946_create_user` is `2019-02-26-002946`, `create_user`.
fn split_version(base: &str) -> (String, String) {
    if let Some((v, name)) = base.split_once("__")
        && v.starts_with(['v', 'V'])
    {
        return (v[1..].to_string(), name.to_string());
    }
    let end = base.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(base.len());
    let version = base[..end].trim_end_matches('-').to_string();
    let name = base[end..].trim_start_matches(['_', '-', '.']).to_string();
    (version, name)
}

/// The up part of a file that holds both directions behind markers, else the whole file.
fn up_section(sql: &str) -> String {
    let marker = |line: &str| {
        let l = line.trim().to_lowercase().replace(' ', "");
        match l.as_str() {
            "--migrate:up" | "--+gooseup" | "--+migrateup" => Some(true),
            "--migrate:down" | "--+goosedown" | "--+migratedown" => Some(false),
            _ => None,
        }
    };
    if !sql.lines().any(|l| marker(l).is_some()) {
        return sql.to_string();
    }
    let mut up = true;
    let mut out = String::new();
    for line in sql.lines() {
        match marker(line) {
            Some(direction) => up = direction,
            None if up => {
                out.push_str(line);
                out.push('\n');
            }
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, sql) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, sql).unwrap();
        }
        dir
    }

    fn names(dir: &tempfile::TempDir) -> Vec<String> {
        read_folder(dir.path())
            .unwrap()
            .iter()
            .map(|s| {
                format!("{}:{}{}", s.version, s.name, if s.pending { " (pending)" } else { "" })
            })
            .collect()
    }

    #[test]
    fn each_layout_gives_its_up_steps_in_order() {
        let numbered = folder(&[
            ("010_add_email.sql", "a"),
            ("010_add_email_down.sql", "b"),
            ("002_create_users.sql", "c"),
            ("002_create_users_down.sql", "d"),
        ]);
        assert_eq!(names(&numbered), ["002:create_users", "010:add_email"]);
        let dated = folder(&[
            ("20230601_add_x.sql", "a"),
            ("20230601_rollback_add_x.sql", "b"),
            ("20221231_init.sql", "c"),
        ]);
        assert_eq!(names(&dated), ["20221231:init", "20230601:add_x"]);
        let diesel = folder(&[
            ("2019-03-03-163336_create_post/up.sql", "a"),
            ("2019-03-03-163336_create_post/down.sql", "b"),
            ("00000000000000_diesel_initial_setup/up.sql", "c"),
        ]);
        assert_eq!(
            names(&diesel),
            ["00000000000000:diesel_initial_setup", "2019-03-03-163336:create_post"]
        );
        let folders = folder(&[
            ("applied/001_a.sql", "a"),
            ("pending/002_b.sql", "b"),
            ("pending/002_b_down.sql", "c"),
        ]);
        assert_eq!(names(&folders), ["001:a", "002:b (pending)"]);
        let popx = folder(&[
            ("20150100000001000000_networks.postgres.up.sql", "a"),
            ("20150100000001000000_networks.up.sql", "generic"),
            ("20150100000001000000_networks.mysql.up.sql", "m"),
            ("20150100000001000000_networks.postgres.down.sql", "b"),
            ("20241029153900000001_identities.autocommit.up.sql", "c"),
        ]);
        assert_eq!(
            names(&popx),
            ["20150100000001000000:networks", "20241029153900000001:identities"]
        );
        let flyway = folder(&[("V2__add.sql", "a"), ("V10__more.sql", "b"), ("U2__add.sql", "c")]);
        assert_eq!(names(&flyway), ["2:add", "10:more"]);
    }

    #[test]
    fn a_file_with_both_directions_runs_its_up_part() {
        let sql = "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n";
        assert_eq!(up_section(sql), "CREATE TABLE a (id int);\n");
        let goose = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n";
        assert_eq!(up_section(goose), "CREATE TABLE a (id int);\n");
        let commented = "CREATE TABLE a (id int);\n-- down:\n-- DROP TABLE a;\n";
        assert_eq!(up_section(commented), commented);
    }
}
