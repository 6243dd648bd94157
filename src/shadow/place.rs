//! Where ephemeral clusters are made. A shadow runs with fsync off and is thrown away when
//! the command ends, so a disk's durability buys it nothing, while each table it loads
//! creates several files: on this project's benchmark machine (a virtual disk) creating one
//! took 0.5 to 1 ms on disk against about 10 µs in memory, half of loading a 1,000-table
//! schema. So clusters are made in the machine's memory file system when it has room.

use std::path::{Path, PathBuf};

/// The room a memory file system must have, free and backed by available memory, for
/// clusters to be made in it: a 10,000-table schema's cluster holds about 1.1 GB (the
/// database and its WAL), and `check` loads two states.
const ROOM: u64 = 4 << 30;

/// The memory file system looked at.
const MEMORY_DIR: &str = "/dev/shm";

/// The directory ephemeral clusters, and the spare data directories they leave (see
/// `initdb_cache`), are made in: the temp directory when `TMPDIR` names one (the user's
/// choice, also to keep clusters on disk), else `/dev/shm` when it is a memory file system
/// with room, else the system's temp directory.
pub fn clusters_dir() -> PathBuf {
    let chosen = std::env::var_os("TMPDIR").is_some_and(|dir| !dir.is_empty());
    choose(chosen, memory_dir_with_room, std::env::temp_dir())
}

fn choose(tmpdir_chosen: bool, memory: impl FnOnce() -> Option<PathBuf>, temp: PathBuf) -> PathBuf {
    if tmpdir_chosen {
        return temp;
    }
    memory().unwrap_or(temp)
}

/// `/dev/shm` when it is a tmpfs this user may write in, with `ROOM` free and as much
/// memory available (a tmpfs may be sized beyond the memory there is).
fn memory_dir_with_room() -> Option<PathBuf> {
    use nix::sys::statfs::{TMPFS_MAGIC, statfs};
    let dir = Path::new(MEMORY_DIR);
    let fs = statfs(dir).ok()?;
    let free = fs.blocks_available() as u64 * fs.block_size() as u64;
    let writable = nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok();
    let room = fs.filesystem_type() == TMPFS_MAGIC
        && writable
        && free >= ROOM
        && available_memory().is_some_and(|m| m >= ROOM);
    room.then(|| dir.to_path_buf())
}

/// The memory the kernel says is available for new work (`MemAvailable`), in bytes.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// What to add to an error that says a file system is full, when this process makes its
/// clusters in `dir` in memory: how to move them to disk.
pub(crate) fn full_hint(dir: &Path) -> Option<String> {
    dir.starts_with(MEMORY_DIR).then(|| {
        format!(
            "schemadiff's own shadow cluster is made in {MEMORY_DIR}, which takes its room \
             from memory; set TMPDIR to a directory on disk to make it there, or pass --dev-url"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_go_to_memory_unless_tmpdir_is_chosen_or_there_is_no_room() {
        let temp = PathBuf::from("/var/tmp");
        let shm = || Some(PathBuf::from(MEMORY_DIR));
        assert_eq!(choose(false, shm, temp.clone()), PathBuf::from(MEMORY_DIR));
        assert_eq!(choose(true, shm, temp.clone()), temp, "TMPDIR is the user's choice");
        assert_eq!(choose(false, || None, temp.clone()), temp, "no room in memory");
    }

    #[test]
    fn a_full_memory_file_system_says_how_to_move_the_shadow_to_disk() {
        let hint = full_hint(Path::new("/dev/shm/schemadiff-pg-x")).unwrap();
        assert!(hint.contains("TMPDIR"), "{hint}");
        assert_eq!(full_hint(Path::new("/tmp/schemadiff-pg-x")), None);
    }
}
