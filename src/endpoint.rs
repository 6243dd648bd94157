//! One side of `schemadiff diff FROM TO`: a database, a schema directory (or file) or a
//! migrations directory, told apart by what the argument is.

use std::path::{Path, PathBuf};

use crate::connect::ConnInfo;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A live database: its catalog, read as it is.
    Database(ConnInfo),
    /// Plain DDL, as `schema/` holds it: loaded into a scratch database.
    Schema(PathBuf),
    /// Migrations, as `generated/` holds them: their up files replayed in a scratch database.
    Migrations(PathBuf),
}

impl Endpoint {
    /// A connection string (`postgres://...`, or `key=value` words), else a path: a directory
    /// of `.up.sql` files (or with a `schemadiff.sum`) is migrations, any other directory or
    /// `.sql` file a schema.
    pub fn parse(arg: &str) -> Result<Endpoint> {
        let url = arg.starts_with("postgres://") || arg.starts_with("postgresql://");
        if url || (arg.contains('=') && !Path::new(arg).exists()) {
            return Ok(Endpoint::Database(crate::connect::parse(arg)?));
        }
        let path = PathBuf::from(arg);
        if !path.exists() {
            return Err(Error::Usage(format!(
                "{arg}: no such file or directory, and not a connection string (postgres://... or host=... dbname=...)"
            )));
        }
        if path.is_dir() && is_migrations_dir(&path) {
            return Ok(Endpoint::Migrations(path));
        }
        Ok(Endpoint::Schema(path))
    }

    /// How messages name it.
    pub fn describe(&self) -> String {
        match self {
            Endpoint::Database(info) => info.to_string(),
            Endpoint::Schema(p) | Endpoint::Migrations(p) => p.display().to_string(),
        }
    }
}

fn is_migrations_dir(dir: &Path) -> bool {
    dir.join(crate::migrations::SUM_FILE).exists()
        || std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".up.sql"))
        })
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn arguments_are_told_apart_by_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let (schema, generated) = (dir.path().join("schema"), dir.path().join("generated"));
        std::fs::create_dir_all(&schema).unwrap();
        std::fs::create_dir_all(&generated).unwrap();
        std::fs::write(schema.join("a.sql"), "CREATE TABLE a (id int);").unwrap();
        std::fs::write(generated.join("001_a.up.sql"), "CREATE TABLE a (id int);").unwrap();
        let kind = |arg: &str| match Endpoint::parse(arg) {
            Ok(Endpoint::Database(_)) => "database",
            Ok(Endpoint::Schema(_)) => "schema",
            Ok(Endpoint::Migrations(_)) => "migrations",
            Err(_) => "error",
        };
        assert_eq!(kind("postgres://app@db.internal/app"), "database");
        assert_eq!(kind("host=/tmp dbname=app"), "database");
        assert_eq!(kind(schema.to_str().unwrap()), "schema");
        assert_eq!(kind(schema.join("a.sql").to_str().unwrap()), "schema");
        assert_eq!(kind(generated.to_str().unwrap()), "migrations");
        assert_eq!(kind("no/such/dir"), "error");
    }
}
