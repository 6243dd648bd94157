//! What earlier runs worked out, kept in the user's cache directory so that a run with the
//! same inputs need not work it out again: the data directory initdb makes, and which
//! repository states are in sync (what a team's second `plan` or `check` of the day finds).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Config;

/// `SCHEMADIFF_CACHE_DIR`, else `$XDG_CACHE_HOME/schemadiff`, else `~/.cache/schemadiff`;
/// None when `SCHEMADIFF_CACHE_DIR` is set empty (no caching) or there is no home.
pub fn root() -> Option<PathBuf> {
    match std::env::var_os("SCHEMADIFF_CACHE_DIR") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
            Some(dir) => Some(PathBuf::from(dir).join("schemadiff")),
            None => Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache/schemadiff")),
        },
    }
}

/// A file's identity without reading it: path, size and modification time.
pub fn file_identity(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{} {} {}", path.display(), meta.len(), modified.as_nanos()))
}

/// The inputs a verdict on `schema/` against `generated/` depends on: every file of both
/// (names and bytes), the settings, this build of schemadiff and the shadow it checks on.
/// None when one of them cannot be read (the run then works it out).
pub fn sync_key(config: &Config) -> Option<String> {
    let mut hash = Sha256::new();
    let exe = std::env::current_exe().ok()?;
    hash.update(file_identity(&exe)?.as_bytes());
    match &config.dev_url {
        Some(url) => hash.update(format!("dev {url}").as_bytes()),
        None => hash.update(file_identity(&crate::shadow::find_bindir()?.join("postgres"))?),
    }
    hash.update(format!("{config:?}").as_bytes());
    for dir in [&config.schema_dir, &config.migrations_dir] {
        let mut files = Vec::new();
        tree(dir, &mut files).ok()?;
        files.sort();
        for file in files {
            hash.update(file.display().to_string().as_bytes());
            hash.update([0]);
            hash.update(std::fs::read(&file).ok()?);
            hash.update([0]);
        }
    }
    Some(hex::encode(hash.finalize()))
}

fn tree(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        match entry.file_type()?.is_dir() {
            true => tree(&entry.path(), out)?,
            false => out.push(entry.path()),
        }
    }
    Ok(())
}

fn verdict_file(key: &str) -> Option<PathBuf> {
    Some(root()?.join("in-sync").join(key))
}

/// A run's finding that `schema/` and `generated/` are in sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InSync {
    /// What the run noted of the data statements in `schema/`: the one note that needs
    /// `schema/` parsed.
    pub data_note: Option<String>,
}

/// What a run with these inputs found, when one found them in sync.
pub fn known_in_sync(key: &str) -> Option<InSync> {
    let note = std::fs::read_to_string(verdict_file(key)?).ok()?;
    Some(InSync { data_note: (!note.is_empty()).then_some(note) })
}

/// Remembers that these inputs are in sync, with the note on `schema/`'s data statements.
/// Best effort: a cache that cannot be written only means the next run checks again.
pub fn remember_in_sync(key: &str, data_note: Option<&str>) {
    let Some(file) = verdict_file(key) else { return };
    if let Some(dir) = file.parent()
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = std::fs::write(file, data_note.unwrap_or_default());
    }
}
