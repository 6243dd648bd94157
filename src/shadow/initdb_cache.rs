//! Data directories as initdb leaves them, kept per PostgreSQL build in the user's cache
//! directory: starting a cluster from a copy skips initdb's bootstrap, most of a short
//! command's time. A copy made ahead, by the command before, skips the copy too.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where the data directory for the server binaries in `bindir` is kept: named after the
/// binaries' path, size and modification time, so an upgrade makes a new one. None when
/// there is no cache directory (see `cache::root`).
pub fn dir(bindir: &Path) -> Option<PathBuf> {
    // What initdb is run with belongs to the key too: change it and the old copy is not used.
    let key = crate::cache::file_identity(&bindir.join("postgres"))? + "\nUTF8 C trust";
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    Some(crate::cache::root()?.join(format!("initdb-{}", &hash[..16])))
}

/// Keeps a copy of a new data directory at `cached`. Best effort: a run that cannot write
/// the cache just runs initdb again next time. Written beside and renamed into place, so a
/// run never copies a half-written one.
pub fn store(data: &Path, cached: &Path) {
    let Some(parent) = cached.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let staging = parent.join(format!(".staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let stored =
        copy_tree(data, &staging, None).is_ok() && std::fs::rename(&staging, cached).is_ok();
    if !stored {
        let _ = std::fs::remove_dir_all(&staging);
    }
}

/// Copies the tree at `from` to `to` with its permissions, owned by `owner` when given.
pub fn copy_tree(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    // PostgreSQL refuses a data directory others can read.
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(to, Some(uid), Some(gid))?;
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, owner)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&target, Some(uid), Some(gid))?;
            }
        }
    }
    Ok(())
}

/// Spares of `cached` for a server run by `uid`, beside the clusters that leave them (in
/// the directory a cluster's own is in), are named with this prefix; None for a cache
/// directory without a name. The cached directory is named for the binaries and initdb's
/// options, so spares of any cache with the same name are the same.
fn spare_prefix(cached: &Path, uid: u32) -> Option<String> {
    Some(format!("schemadiff-spare-{uid}-{}-", cached.file_name()?.to_str()?))
}

/// Moves a spare copy of `cached` that an earlier command left in `place` to `data`, for a
/// server run by `uid`. Copying 1,000 files of 39 MB takes a second on some disks, most of a
/// small plan's start; a rename is instant, and atomic: of two commands that find the same
/// spare, one gets it, the other copies. False when there is none to take.
pub fn take_spare(place: &Path, cached: &Path, data: &Path, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(prefix) = spare_prefix(cached, uid) else { return false };
    spares(place, &prefix).any(|entry| {
        // Another user's directory of that name is not one PostgreSQL would start in.
        entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid)
            && std::fs::rename(entry.path(), data).is_ok()
    })
}

/// Where in `place` the next spare of `cached` for a server run by `uid` goes, or None when
/// one is already waiting: one spare at a time (two commands that end together may leave
/// two, and the next two take them).
pub fn spare_to_make(place: &Path, cached: &Path, uid: u32) -> Option<PathBuf> {
    let prefix = spare_prefix(cached, uid)?;
    let waiting = spares(place, &prefix).next().is_some();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?;
    let name = format!("{prefix}{}-{}", std::process::id(), nanos.as_nanos());
    (!waiting).then(|| place.join(name))
}

/// The entries of `place` named with `prefix`.
fn spares<'p>(place: &Path, prefix: &'p str) -> impl Iterator<Item = std::fs::DirEntry> + 'p {
    let entries = std::fs::read_dir(place).into_iter().flatten().flatten();
    entries.filter(move |entry| entry.file_name().to_str().is_some_and(|n| n.starts_with(prefix)))
}
