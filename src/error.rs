//! The library's errors: each says what went wrong, where, and what to do.

use std::path::PathBuf;

/// A place in a schema or migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{location}: syntax error: {message}")]
    Syntax { location: Location, message: String },

    #[error("{location}: {message}\n  while running: {statement}")]
    Statement { location: Location, message: String, statement: String },

    #[error("cannot connect to {url}: {cause}")]
    Connect { url: String, cause: String },

    #[error("{context}: {}", describe_db_error(source))]
    Database {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("shadow database: {0}")]
    Shadow(String),

    #[error(
        "the plan has hazards that were not allowed:\n{list}\nreview them, then plan again with --allow-hazards {codes}"
    )]
    HazardsNotAllowed { list: String, codes: String },

    #[error("the plan failed its own verification ({phase}); nothing was written\n{residual}")]
    Verification { phase: String, residual: String },

    #[error(
        "these objects differ, and schemadiff cannot manage them yet:\n{0}\nchange them by hand, or list them under `exclude` in schemadiff.toml"
    )]
    Unmanaged(String),

    #[error("{0}")]
    Migrations(String),

    #[error("{0}")]
    Plan(String),

    #[error("{0}")]
    Usage(String),

    /// The user asked the run to stop (Ctrl-C) before this point.
    #[error("{0}")]
    Interrupted(String),
}

impl Error {
    /// The process exit code the CLI uses for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Syntax { .. } | Error::Statement { .. } | Error::Usage(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let context = context.into();
        move |source| Error::Database { context, source }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// Writes a database error with PostgreSQL's own message, detail and hint.
pub fn describe_db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!("\n  detail: {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("\n  hint: {h}"));
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(cause) = src {
                s.push_str(&format!(": {cause}"));
                src = cause.source();
            }
            s
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
